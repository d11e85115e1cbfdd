// QEMU parses guest-controlled device state: a bug there runs the guest's
// code as QEMU on the host. So QEMU must be nobody in particular: a uid of
// its own (never root, never shared with another sandbox or a host user),
// no capability at all, and only the files it was handed. These tests look
// at the real QEMU process of a sandbox set up the way a Debian image
// build's sandbox is (root-owned repository, read-only), which used to keep
// QEMU at uid 0 with every capability.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "backend/namespace/host_ids.h"
#include "../integration/cli_harness.h"

namespace hull::testing {
namespace {

namespace fs = std::filesystem;

class QemuIdentity : public CliTest {
 protected:
  // "Uid:", "CapEff:", ... of /proc/<pid>/status.
  static std::map<std::string, std::string> status_of(int pid) {
    std::map<std::string, std::string> out;
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      auto v = line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      out[line.substr(0, colon)] = v;
    }
    return out;
  }

  // Starts a detached microVM like the Debian builder's (a root-owned
  // repository as a read-only workspace, user root); its QEMU's pid.
  int start_builder_like(const std::string& name, const std::string& repo) {
    fs::create_directories(repo);
    EXPECT_EQ(::chown(repo.c_str(), 0, 0), 0);
    EXPECT_EQ(::chmod(repo.c_str(), 0700), 0);  // not even readable by others
    { std::ofstream(repo + "/pkg.deb") << "a package"; }
    auto r = run_hull({"run", "-d", "--name", name, "--backend", "microvm", "--workspace", repo,
                       "--workspace-ro", "--", "sleep", "1000"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return inspect_json(name)["state"].value("boundary_pid", 0);
  }
};

TEST_F(QemuIdentity, ABuilderVmsQemuIsAnUnprivilegedUidOfItsOwnWithNoCapabilities) {
  HULL_REQUIRE_MICROVM();
  if (::geteuid() != 0) GTEST_SKIP() << "QEMU runs as hull's own user when hull is not root";
  const int qemu = start_builder_like("b1", home_ + "/repo");
  ASSERT_GT(qemu, 0);
  auto st = status_of(qemu);
  const std::string uid = st["Uid"];
  ASSERT_FALSE(uid.empty());
  const unsigned long real = std::stoul(uid);
  EXPECT_NE(real, 0u) << "QEMU runs as root: " << uid;
  EXPECT_GE(real, backend::ns::kHostIdBase) << "not a leased id: " << uid;
  const std::string r = std::to_string(real);
  EXPECT_EQ(uid, r + "\t" + r + "\t" + r + "\t" + r);
  EXPECT_EQ(st["Gid"], r + "\t" + r + "\t" + r + "\t" + r);
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"})
    EXPECT_EQ(st[set], "0000000000000000") << set;
  EXPECT_EQ(st["NoNewPrivs"], "1");
  EXPECT_EQ(st["Seccomp"], "2");

  // It still reads the root-only repository (as its owner, through the
  // idmapped mount), and cannot write it.
  auto cat = run_hull({"exec", "b1", "--", "cat", "/workspace/pkg.deb"});
  EXPECT_EQ(cat.exit_code, 0) << cat.err;
  EXPECT_EQ(cat.out, "a package");
  auto write = run_hull({"exec", "b1", "--", "touch", "/workspace/new"});
  EXPECT_NE(write.exit_code, 0);
  EXPECT_FALSE(fs::exists(home_ + "/repo/new"));
}

TEST_F(QemuIdentity, TwoSandboxesNeverShareQemusUid) {
  HULL_REQUIRE_MICROVM();
  if (::geteuid() != 0) GTEST_SKIP() << "QEMU runs as hull's own user when hull is not root";
  const int a = start_builder_like("b1", home_ + "/repo1");
  const int b = start_builder_like("b2", home_ + "/repo2");
  ASSERT_GT(a, 0);
  ASSERT_GT(b, 0);
  EXPECT_NE(status_of(a)["Uid"], status_of(b)["Uid"]);
}

// The cached root disk is a whole image, its 0600 files included: closed
// to every other user of the host, and given to QEMU as an open file.
TEST_F(QemuIdentity, TheRootDiskIsClosedToOtherUsersAndHandedToQemuOpen) {
  HULL_REQUIRE_MICROVM();
  const int qemu = start_builder_like("b1", home_ + "/repo");
  ASSERT_GT(qemu, 0);
  std::string disk;  // QEMU keeps the fd it was given in an fdset, under a number of its own
  for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(qemu) + "/fd")) {
    std::error_code ec;
    auto target = fs::read_symlink(e.path(), ec).string();
    if (!ec && target.ends_with(".ext4")) disk = target;
  }
  ASSERT_FALSE(disk.empty()) << "QEMU holds no open root disk";
  struct stat st {};
  ASSERT_EQ(::stat(disk.c_str(), &st), 0) << disk;
  EXPECT_EQ(st.st_mode & 07777, 0600u) << disk;
  ASSERT_EQ(::stat(fs::path(disk).parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u) << fs::path(disk).parent_path();
  std::ifstream cmdline("/proc/" + std::to_string(qemu) + "/cmdline");
  std::string args((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
  EXPECT_EQ(args.find(disk), std::string::npos) << "QEMU was given the disk's path";
}

}  // namespace
}  // namespace hull::testing
