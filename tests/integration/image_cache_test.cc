// The default image cache: locking, temp dir + rename publication, stale
// build clean-up — exercised with fake builders so it runs in milliseconds —
// and one opt-in test that runs the real mmdebstrap build (~65 s, ~290 MB).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/command.h"
#include "base/fd.h"
#include "base/paths.h"
#include "base/sys.h"
#include "base/temp_dir.h"
#include "image/default_image.h"
#include "image/store.h"

namespace hull::image {
namespace {

namespace fs = std::filesystem;

// Points HULL_CACHE at a fresh temp dir for the test, restores it after.
class ImageCache : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* c = std::getenv("HULL_CACHE")) saved_ = c;
    auto t = TempDir::create("/tmp", "hull-image-test-");
    ASSERT_TRUE(t.ok()) << t.error().message();
    tmp_.emplace(std::move(*t));
    ::setenv("HULL_CACHE", tmp_->path().c_str(), 1);
  }
  void TearDown() override {
    if (saved_)
      ::setenv("HULL_CACHE", saved_->c_str(), 1);
    else
      ::unsetenv("HULL_CACHE");
  }
  static std::string images() { return paths::cache_dir() + "/images"; }
  static std::vector<std::string> build_dirs() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(images(), ec))
      if (e.path().filename().string().starts_with(".build-")) out.push_back(e.path().string());
    return out;
  }

  DefaultImageSpec spec_ = DefaultImageSpec{"test image", "bookworm", "minbase", {"fake-pkg"}};
  std::optional<std::string> saved_;
  std::optional<TempDir> tmp_;
};

Status write_tiny_tree(const std::string& rootfs) {
  HULL_TRY(sys::mkdir_p(rootfs + "/etc"));
  return sys::write_file_atomic(rootfs + "/etc/os-release", "ID=fake\n");
}

RootfsBuilder tiny_builder(std::atomic<int>* calls = nullptr, int sleep_ms = 0) {
  return [=](const DefaultImageSpec&, const std::string& rootfs, int) -> Status {
    if (calls != nullptr) ++*calls;
    if (sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
    return write_tiny_tree(rootfs);
  };
}

TEST_F(ImageCache, NothingIsCachedUntilABuildCompletes) {
  EXPECT_EQ(cached_rootfs(spec_), "");
  auto r = ensure_rootfs(spec_, tiny_builder(), -1);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, image_dir(spec_) + "/rootfs");
  EXPECT_EQ(cached_rootfs(spec_), *r);
  EXPECT_TRUE(sys::exists(*r + "/etc/os-release"));
  auto manifest = sys::read_file(image_dir(spec_) + "/image.json");
  ASSERT_TRUE(manifest.ok());
  EXPECT_NE(manifest->find("\"key\": \"" + spec_key(spec_) + "\""), std::string::npos) << *manifest;
  EXPECT_NE(manifest->find("\"build_seconds\""), std::string::npos);
  EXPECT_TRUE(build_dirs().empty());
}

TEST_F(ImageCache, ABuilderThatFailsMidwayLeavesNoImageAndNoTempDir) {
  auto failing = [](const DefaultImageSpec&, const std::string& rootfs, int) -> Status {
    HULL_TRY(write_tiny_tree(rootfs));
    return make_error("fake build", "network went away");
  };
  auto r = ensure_rootfs(spec_, failing, -1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("network went away"), std::string::npos);
  EXPECT_FALSE(sys::exists(image_dir(spec_)));
  EXPECT_EQ(cached_rootfs(spec_), "");
  EXPECT_TRUE(build_dirs().empty());
}

TEST_F(ImageCache, AKilledBuildLeavesOnlyATempDirAndTheNextBuildSucceeds) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child dies by SIGKILL halfway through its build: no destructor,
    // no clean-up, its flock released by the kernel.
    auto dying = [](const DefaultImageSpec&, const std::string& rootfs, int) -> Status {
      (void)write_tiny_tree(rootfs);
      ::raise(SIGKILL);
      return ok_status();
    };
    (void)ensure_rootfs(spec_, dying, -1);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_FALSE(sys::exists(image_dir(spec_)));
  EXPECT_EQ(cached_rootfs(spec_), "");
  ASSERT_EQ(build_dirs().size(), 1u);

  auto r = ensure_rootfs(spec_, tiny_builder(), -1);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(cached_rootfs(spec_), *r);
  EXPECT_TRUE(build_dirs().empty()) << "the stale temp dir was not removed";
}

TEST_F(ImageCache, ConcurrentCallersInThreadsBuildOnce) {
  std::atomic<int> calls{0};
  auto builder = tiny_builder(&calls, 300);
  Result<std::string> a = make_error("unset"), b = make_error("unset");
  {
    std::jthread t1([&] { a = ensure_rootfs(spec_, builder, -1); });
    std::jthread t2([&] { b = ensure_rootfs(spec_, builder, -1); });
  }
  ASSERT_TRUE(a.ok()) << a.error().message();
  ASSERT_TRUE(b.ok()) << b.error().message();
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(ImageCache, ConcurrentCallersInProcessesBuildOnce) {
  // Each child appends one byte per build it ran to a shared counter file.
  const std::string counter = tmp_->path() + "/builds";
  auto counting = [&](const DefaultImageSpec&, const std::string& rootfs, int) -> Status {
    auto fd = sys::open(counter, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd.ok()) (void)sys::write_all(fd->get(), "x");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return write_tiny_tree(rootfs);
  };
  std::vector<pid_t> kids;
  for (int i = 0; i < 3; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) ::_exit(ensure_rootfs(spec_, counting, -1).ok() ? 0 : 1);
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto builds = sys::read_file(counter);
  ASSERT_TRUE(builds.ok());
  EXPECT_EQ(*builds, "x");
  EXPECT_NE(cached_rootfs(spec_), "");
}

TEST_F(ImageCache, AnotherKeysTempDirIsKeptWhileItsLockIsHeldAndRemovedOnceFree) {
  ASSERT_TRUE(sys::mkdir_p(images() + "/.build-aaaaaaaaaaaaaaaa-live12").ok());
  ASSERT_TRUE(sys::mkdir_p(images() + "/.build-bbbbbbbbbbbbbbbb-dead34").ok());
  auto held = sys::open(images() + "/.lock-aaaaaaaaaaaaaaaa", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(::flock(held->get(), LOCK_EX | LOCK_NB), 0);

  ASSERT_TRUE(ensure_rootfs(spec_, tiny_builder(), -1).ok());
  EXPECT_TRUE(sys::exists(images() + "/.build-aaaaaaaaaaaaaaaa-live12")) << "removed a live build";
  EXPECT_FALSE(sys::exists(images() + "/.build-bbbbbbbbbbbbbbbb-dead34"));
}

TEST_F(ImageCache, ADifferentPackageListIsADifferentImage) {
  ASSERT_TRUE(ensure_rootfs(spec_, tiny_builder(), -1).ok());
  auto other = spec_;
  other.packages.push_back("vim");
  EXPECT_EQ(cached_rootfs(other), "");
  std::atomic<int> calls{0};
  ASSERT_TRUE(ensure_rootfs(other, tiny_builder(&calls), -1).ok());
  EXPECT_EQ(calls.load(), 1);
  EXPECT_NE(image_dir(other), image_dir(spec_));
}

TEST_F(ImageCache, MissingMmdebstrapSaysHowToInstallIt) {
  std::string saved_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", tmp_->path().c_str(), 1);
  auto r = ensure_rootfs(spec_, build_with_mmdebstrap, -1);
  ::setenv("PATH", saved_path.c_str(), 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("apt-get install mmdebstrap"), std::string::npos)
      << r.error().message();
  EXPECT_TRUE(build_dirs().empty());
}

// The real thing: opt-in because it downloads ~60 MB and takes ~70 s.
TEST_F(ImageCache, RealMmdebstrapBuildHasTheDefaultPackages) {
  const char* opt = std::getenv("HULL_TEST_IMAGE_BUILD");
  if (opt == nullptr || std::string(opt) != "1")
    GTEST_SKIP() << "set HULL_TEST_IMAGE_BUILD=1 to run the real mmdebstrap build (~65 s, ~290 MB)";
  if (::geteuid() != 0) GTEST_SKIP() << "the mmdebstrap build runs as root";
  if (find_program("mmdebstrap").empty()) GTEST_SKIP() << "mmdebstrap is not installed";

  auto r = ensure_default_rootfs(STDERR_FILENO);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(cached_default_rootfs(), *r);
  for (const char* bin : {"bash", "python3", "git", "curl", "ps", "ip"})
    EXPECT_TRUE(sys::exists(*r + "/usr/bin/" + std::string(bin)) ||
                sys::exists(*r + "/bin/" + std::string(bin)))
        << bin;
  // Built by the debian builder from the built-in hull.toml: an image in
  // the shared default store, pinned by a lock, with its SBOM.
  auto rec = ImageStore(default_store_root()).resolve(default_image_tag());
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  EXPECT_EQ(rec->rootfs(), *r);
  EXPECT_EQ(rec->meta.builder, "debian");
  bool has_python = false;
  for (const auto& p : rec->meta.packages) has_python = has_python || p.value("name", "") == "python3";
  EXPECT_TRUE(has_python) << rec->meta.packages.dump();
  EXPECT_TRUE(rec->meta.lock.is_object());

  // Second call: already there, no rebuild.
  auto t0 = std::chrono::steady_clock::now();
  auto again = ensure_default_rootfs(-1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *r);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
}

}  // namespace
}  // namespace hull::image
