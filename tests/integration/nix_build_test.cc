// The nix builder end to end, through the CLI: tests/data/nix-hello (an
// input-free flake whose only tool is a static busybox) is built by the real
// nix into an image, which then runs in a namespace sandbox. Needs nix-bin
// and busybox-static; skips, saying which is missing, without them.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "image/nix_builder.h"
#include "nix_project.h"

namespace hull::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMotd = "hello from a nix-built image\n";
constexpr const char* kGreeting = "greetings from another store path\n";

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

using NixBuild = NixProjectTest;

TEST_F(NixBuild, AFlakeBuildsIntoAnImageWithItsClosureAndFlakeLock) {
  auto r = run_hull({"image", "build", project_, "--tag", "nixhello", "--json"}, {.timeout_s = 300});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["builder"], "nix");
  EXPECT_NE(j["source"].get<std::string>().find("nix:.#default"), std::string::npos) << j["source"];
  EXPECT_EQ(j["lock"], nlohmann::json::parse(slurp(kNixFlakeDir / "flake.lock")));
  EXPECT_EQ(j["config"]["cmd"], (std::vector<std::string>{"/bin/busybox", "cat", "/etc/motd"}));
  EXPECT_EQ(j["config"]["env"]["GREETING"], "hi");

  // The closure: the output and the greeting it links to, sorted by path.
  ASSERT_EQ(j["packages"].size(), 2u) << j["packages"];
  nlohmann::json hello, greeting;
  for (const auto& p : j["packages"]) (p["name"] == "nix-hello" ? hello : greeting) = p;
  EXPECT_EQ(hello["version"], "1.0");
  EXPECT_EQ(greeting["name"], "greeting");
  EXPECT_EQ(greeting["version"], "2.0");
  const std::string out_path = hello["store_path"];
  const std::string dep_path = greeting["store_path"];
  EXPECT_TRUE(out_path.starts_with("/nix/store/")) << out_path;
  EXPECT_TRUE(hello["nar_hash"].get<std::string>().starts_with("sha256-")) << hello;

  // The output is /; modes are plain, symlinks stay symlinks; the output's
  // store path is a link to / (no second copy); the dependency is copied.
  const fs::path rootfs = j["path"].get<std::string>();
  EXPECT_EQ(slurp(rootfs / "etc/motd"), kMotd);
  EXPECT_EQ(mode_of(rootfs / "etc/motd"), 0644u);
  EXPECT_EQ(mode_of(rootfs / "bin/busybox"), 0755u);
  EXPECT_EQ(mode_of(rootfs / "etc"), 0755u);
  ASSERT_TRUE(fs::is_symlink(rootfs / "bin/sh"));
  EXPECT_EQ(fs::read_symlink(rootfs / "bin/sh"), "busybox");
  const fs::path self_link = rootfs / out_path.substr(1);
  ASSERT_TRUE(fs::is_symlink(self_link)) << self_link;
  EXPECT_EQ(fs::read_symlink(self_link), "/");
  EXPECT_EQ(slurp(rootfs / dep_path.substr(1) / "share/greeting"), kGreeting);
  EXPECT_EQ(fs::read_symlink(rootfs / "etc/greeting"), dep_path + "/share/greeting");
  EXPECT_FALSE(fs::exists(rootfs.parent_path() / "nix-result"));

  // Built again: the same bytes give the same name.
  auto again = run_hull({"image", "build", project_, "--no-cache"}, {.timeout_s = 300});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, j["digest"].get<std::string>() + "\n");
}

TEST_F(NixBuild, TheBuiltImageRunsInASandbox) {
  if (!backend_usable("namespace")) GTEST_SKIP() << "the namespace backend is not usable here (see hull doctor)";
  auto b = run_hull({"image", "build", project_, "--tag", "nixhello"}, {.timeout_s = 300});
  ASSERT_EQ(b.exit_code, 0) << b.err;

  auto cat = run_hull({"run", "--rm", "--backend", "namespace", "--image", "nixhello", "--", kBusybox, "cat",
                       "/etc/motd"});
  EXPECT_EQ(cat.exit_code, 0) << cat.err;
  EXPECT_EQ(cat.out, kMotd);
  // The image's cmd, when none is given.
  auto dflt = run_hull({"run", "--rm", "--backend", "namespace", "--image", "nixhello"});
  EXPECT_EQ(dflt.exit_code, 0) << dflt.err;
  EXPECT_EQ(dflt.out, kMotd);
  // /etc/greeting links into the dependency's store path.
  auto greet = run_hull({"run", "--rm", "--backend", "namespace", "--image", "nixhello", "--", kBusybox, "cat",
                         "/etc/greeting"});
  EXPECT_EQ(greet.exit_code, 0) << greet.err;
  EXPECT_EQ(greet.out, kGreeting);
  // /bin/hello's #! names its own store path: /nix/store/<out> must resolve.
  auto hello = run_hull({"run", "--rm", "--backend", "namespace", "--image", "nixhello", "--", "/bin/hello"});
  EXPECT_EQ(hello.exit_code, 0) << hello.err;
  EXPECT_TRUE(hello.out.starts_with("hello via /nix/store/")) << hello.out;
}

// sandbox_check.sh fails wherever the host's /usr is visible, so this
// builds only if hull really ran nix with its sandbox.
TEST_F(NixBuild, BuildsRunInsideNixsSandbox) {
  set_base("nix:.#sandboxcheck");
  // A new source hash, so nix really builds (an output some earlier,
  // unsandboxed nix run left in /nix/store would prove nothing).
  std::ofstream(project_ + "/nonce") << home_ << " " << ::getpid() << " " << ::time(nullptr) << "\n";
  auto r = run_hull({"image", "build", project_, "--json"}, {.timeout_s = 300});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  const std::string listing = slurp(fs::path(j["path"].get<std::string>()) / "etc/build-root");
  EXPECT_EQ(listing.find("usr\n"), std::string::npos) << listing;
}

// An input-free flake needs no lock, and nix 2.8 writes none for it.
TEST_F(NixBuild, WithoutAFlakeLockTheImageRecordsNoLock) {
  fs::remove(project_ + "/flake.lock");
  auto r = run_hull({"image", "build", project_, "--json"}, {.timeout_s = 300});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["lock"].is_null()) << j["lock"];
  EXPECT_EQ(j["build"]["lock_written"], false);
  EXPECT_FALSE(fs::exists(project_ + "/flake.lock"));
}

TEST_F(NixBuild, AMissingAttributeSaysWhereToLook) {
  set_base("nix:.#nosuchpackage");
  auto r = run_hull({"image", "build", project_});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("nosuchpackage"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nix flake show"), std::string::npos) << r.err;
  auto ls = nlohmann::json::parse(run_hull({"image", "ls", "--json"}).out);
  EXPECT_TRUE(ls.empty()) << ls;
}

// For a build cache key: hull.toml and flake.lock stay the same when
// build.sh changes, the locked source does not.
TEST_F(NixBuild, TheFlakeFingerprintFollowsTheFlakesFiles) {
  auto spec = image::load_workload_spec(project_ + "/hull.toml");
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  auto a = image::nix_flake_fingerprint(*spec, project_);
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_NE(a->find("narHash"), std::string::npos) << *a;
  EXPECT_EQ(*a, *image::nix_flake_fingerprint(*spec, project_));
  std::ofstream(project_ + "/build.sh", std::ios::app) << "# changed\n";
  EXPECT_NE(*a, *image::nix_flake_fingerprint(*spec, project_));
}

// Pure logic, no nix needed: local refs become absolute path: refs.
TEST(NixFlakeRef, LocalRefsResolveAgainstTheProjectDir) {
  struct Case {
    std::string in, ref, dir;
  };
  for (const auto& c : std::vector<Case>{
           {".", "path:/p/app", "/p/app"},
           {"./sub", "path:/p/app/sub", "/p/app/sub"},
           {"./sub/", "path:/p/app/sub", "/p/app/sub"},
           {"../other", "path:/p/other", "/p/other"},
           {"path:./x", "path:/p/app/x", "/p/app/x"},
           {"path:/abs/flake", "path:/abs/flake", "/abs/flake"},
           {".?dir=nix", "path:/p/app/nix", "/p/app/nix"},
           {"./x?dir=y&narHash=sha256-abc", "path:/p/app/x/y?narHash=sha256-abc", "/p/app/x/y"},
           {"github:owner/repo", "github:owner/repo", ""},
           {"git+https://example.org/r.git", "git+https://example.org/r.git", ""},
           {"nixpkgs", "nixpkgs", ""},
       }) {
    auto r = image::resolve_flake_ref(c.in, "/p/app");
    EXPECT_EQ(r.ref, c.ref) << c.in;
    EXPECT_EQ(r.local_dir, c.dir) << c.in;
  }
}

}  // namespace
}  // namespace hull::testing
