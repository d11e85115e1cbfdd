// A sandbox that tries to leave something dangerous in the user's workspace:
// a root-owned or setuid/setgid file, or one with a file capability. What it
// leaves there must be inert on the host: owned by the workspace's owner,
// no set-id bit, no capability. The suite is named Cli* so that it also runs
// against the microVM backend (its 9p workspace), as "microvm:...".
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "../integration/cli_harness.h"

namespace hull::testing {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kOwner = 4242;  // a host user who is not root
constexpr gid_t kOwnerGroup = 4343;

std::string octal(unsigned mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", mode);
  return buf;
}

class CliHostileWorkspace : public CliTest {
 protected:
  // A workspace owned by kOwner, as a user's project directory would be.
  std::string make_workspace(mode_t mode = 0755) {
    std::string ws = home_ + "/ws";
    fs::create_directories(ws);
    EXPECT_EQ(::chown(ws.c_str(), kOwner, kOwnerGroup), 0);
    EXPECT_EQ(::chmod(ws.c_str(), mode), 0);
    return ws;
  }

  // Every entry under `ws` (the directory itself included): its owner, and
  // no set-id bit, no file capability. Returns what is wrong, one per line.
  static std::string inert_problems(const std::string& ws) {
    std::string problems;
    std::vector<fs::path> all{ws};
    for (const auto& e : fs::recursive_directory_iterator(ws)) all.push_back(e.path());
    for (const auto& p : all) {
      struct stat st {};
      if (::lstat(p.c_str(), &st) != 0) continue;
      if (st.st_uid != kOwner || st.st_gid != kOwnerGroup)
        problems += p.string() + " owned by " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid) + "\n";
      if ((st.st_mode & (S_ISUID | S_ISGID)) != 0 && !S_ISDIR(st.st_mode))
        problems += p.string() + " has mode " + octal(st.st_mode & 07777) + "\n";
      char buf[64];
      if (!S_ISLNK(st.st_mode) && ::lgetxattr(p.c_str(), "security.capability", buf, sizeof buf) >= 0)
        problems += p.string() + " has a file capability\n";
    }
    return problems;
  }
};

// What the sandbox creates, as root or as any other user, belongs to the
// workspace's owner on the host (never to root, never to a sandbox id).
TEST_F(CliHostileWorkspace, FilesTheSandboxCreatesBelongToTheWorkspaceOwner) {
  HULL_REQUIRE_IMAGE();
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to make a workspace owned by another user";
  auto ws = make_workspace(0777);  // open to everyone: other users may write, as its owner
  ASSERT_EQ(run_hull({"run", "-d", "--name", "sb", "--workspace", ws, "--", "sleep", "1000"}).exit_code, 0);
  auto r = run_hull({"exec", "sb", "--", "sh", "-c",
                     "touch /workspace/a; mkdir /workspace/d; echo x > /workspace/d/b; "
                     "ln -s /etc/shadow /workspace/link; true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  (void)run_hull({"exec", "-u", "1000", "sb", "--", "touch", "/workspace/as-1000"});
  EXPECT_TRUE(fs::exists(ws + "/a"));
  EXPECT_TRUE(fs::exists(ws + "/d/b"));
  EXPECT_EQ(inert_problems(ws), "");
}

// The reviewer's reproduction: a second user of the sandbox opens the
// workspace up, then sandbox root plants a setuid shell in it.
TEST_F(CliHostileWorkspace, NoSetuidOrSetgidFileSurvivesOnTheHost) {
  HULL_REQUIRE_IMAGE();
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to make a workspace owned by another user";
  auto ws = make_workspace();
  ASSERT_EQ(run_hull({"run", "-d", "--name", "sb", "--workspace", ws, "--", "sleep", "1000"}).exit_code, 0);
  (void)run_hull({"exec", "-u", std::to_string(kOwner), "sb", "--", "chmod", "777", "/workspace"});
  auto r = run_hull({"exec", "sb", "--", "sh", "-c",
                     "cp /bin/sh /workspace/x; chmod 4755 /workspace/x; chmod 2755 /workspace/x; "
                     "chmod u+s,g+s /workspace/x; "
                     "python3 -c \"import os; os.close(os.open('/workspace/y', os.O_CREAT | os.O_WRONLY, 0o6755))\"; "
                     "python3 -c \"import os; os.mknod('/workspace/z', 0o104755)\"; "
                     "python3 -c \"import os; fd = os.open('/workspace/x', os.O_RDONLY); os.fchmod(fd, 0o4755)\"; "
                     "install -m 4755 /bin/sh /workspace/w; "
                     "ls -ln /workspace; true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(ws + "/x")) << r.out;
  EXPECT_EQ(inert_problems(ws), "") << "inside the sandbox:\n" << r.out << r.err;
}

// security.capability on a workspace file would give whoever runs it on
// the host those capabilities (in the namespace its owner's id is root of).
TEST_F(CliHostileWorkspace, NoFileCapabilitySurvivesOnTheHost) {
  HULL_REQUIRE_IMAGE();
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to make a workspace owned by another user";
  auto ws = make_workspace();
  // A VFS_CAP_REVISION_2 blob: cap_net_raw permitted + effective.
  auto r = run_hull({"run", "--rm", "--workspace", ws, "--", "sh", "-c",
                     "cp /bin/sh /workspace/c; python3 -c \"import os, struct; "
                     "os.setxattr('/workspace/c', 'security.capability', "
                     "struct.pack('<IIIII', 0x02000001, 1 << 13, 0, 0, 0))\"; true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(ws + "/c"));
  EXPECT_EQ(inert_problems(ws), "") << r.err;
}

// Inside, the workspace is the sandbox user's own (so tools that check
// ownership, like git, accept it).
TEST_F(CliHostileWorkspace, TheSandboxUserOwnsTheWorkspaceInside) {
  HULL_REQUIRE_IMAGE();
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to make a workspace owned by another user";
  auto ws = make_workspace();
  auto r = run_hull({"run", "--rm", "--workspace", ws, "--", "stat", "-c", "%u:%g", "/workspace"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0:0\n");
  auto as_nobody = run_hull({"run", "--rm", "-u", "nobody", "--workspace", ws, "--", "sh", "-c",
                             "stat -c %u /workspace && touch /workspace/mine && stat -c %u /workspace/mine"});
  ASSERT_EQ(as_nobody.exit_code, 0) << as_nobody.err;
  EXPECT_EQ(as_nobody.out, "65534\n65534\n");
  EXPECT_EQ(inert_problems(ws), "");
}

// QEMU's console log used to be capped with RLIMIT_FSIZE, which caps every
// file QEMU writes: a microVM's workspace writes stopped at 1 MiB.
TEST_F(CliHostileWorkspace, ALargeFileIsWrittenWhole) {
  HULL_REQUIRE_IMAGE();
  std::string ws = home_ + "/ws";
  fs::create_directories(ws);
  auto r = run_hull({"run", "--rm", "--workspace", ws, "--", "dd", "if=/dev/zero", "of=/workspace/big", "bs=1M",
                     "count=50", "status=none"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::exists(ws + "/big"));
  EXPECT_EQ(fs::file_size(ws + "/big"), 50u << 20);
}

}  // namespace
}  // namespace hull::testing
