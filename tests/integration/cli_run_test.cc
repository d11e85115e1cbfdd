// `hull run` end to end: exit codes, isolation as seen from inside, the
// workspace mount, and that the image is never modified.
#include <filesystem>
#include <fstream>

#include "cli_harness.h"

namespace hull::testing {
namespace {

namespace fs = std::filesystem;

class CliRun : public CliTest {};

TEST_F(CliRun, PrintsOutputAndExitsWithTheCommandsCode) {
  HULL_REQUIRE_IMAGE();
  auto r = run_hull({"run", "--backend", backend_under_test(), "--", "sh", "-c", "echo hi; exit 7"});
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_EQ(r.out, "hi\n");
}

// --user picks an account of the image (its /etc/passwd, not the host's);
// `hull exec` runs as the sandbox's user unless told otherwise; a name the
// image does not know is refused before anything starts; and a command that
// stays root holds no capability, whichever user the agent may switch to.
TEST_F(CliRun, UserComesFromTheImageAndCommandsHoldNoCapabilities) {
  HULL_REQUIRE_IMAGE();
  const std::string b = backend_under_test();
  auto r = run_hull({"run", "--rm", "--backend", b, "-u", "nobody", "--", "sh", "-c", "id -u; id -g; echo $HOME"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "65534\n65534\n/nonexistent\n");
  r = run_hull({"run", "--rm", "--backend", b, "--user", "1234:5678", "--", "sh", "-c", "id -u; id -g"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1234\n5678\n");
  r = run_hull({"run", "--rm", "--backend", b, "-u", "ghost", "--", "true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("not in the image's /etc/passwd"), std::string::npos) << r.err;

  ASSERT_EQ(run_hull({"run", "-d", "--name", "u1", "--backend", b, "-u", "nobody", "--", "sleep", "300"}).exit_code, 0);
  r = run_hull({"exec", "u1", "--", "id", "-un"});
  EXPECT_EQ(r.out, "nobody\n") << r.err;
  r = run_hull({"exec", "-u", "root", "u1", "--", "sh", "-c", "id -un; grep -E '^Cap(Prm|Eff|Bnd)' /proc/self/status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, 5), "root\n");
  if (b == "namespace") {  // in a microVM, root is the guest's own root
    EXPECT_NE(r.out.find("CapPrm:\t0000000000000000"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("CapBnd:\t0000000000000000"), std::string::npos) << r.out;
  }
}

TEST_F(CliRun, NotExecutableExits126) {
  HULL_REQUIRE_IMAGE();
  auto r = run_hull({"run", "--rm", "--", "/etc/hostname"});
  EXPECT_EQ(r.exit_code, 126) << r.err;
  EXPECT_NE(r.err.find("/etc/hostname"), std::string::npos) << r.err;
}

TEST_F(CliRun, TimeoutKillsTheCommandAndExits124) {
  HULL_REQUIRE_IMAGE();
  auto r = run_hull({"run", "--rm", "--timeout", "1s", "--", "sleep", "100"});
  EXPECT_EQ(r.exit_code, 124) << r.err;
  EXPECT_NE(r.err.find("timed out"), std::string::npos) << r.err;
}

TEST_F(CliRun, CommandNotFoundExits127) {
  HULL_REQUIRE_IMAGE();
  auto r = run_hull({"run", "--rm", "--", "no-such-command-hull"});
  EXPECT_EQ(r.exit_code, 127) << r.err;
}

TEST_F(CliRun, StdinIsForwardedWithDashI) {
  HULL_REQUIRE_IMAGE();
  HullOptions o;
  o.stdin_data = "hello from the host\n";
  auto r = run_hull({"run", "--rm", "-i", "--", "cat"}, o);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello from the host\n");
}

// Counts the processes with a command line (kernel threads have none: a
// microVM's own guest kernel has dozens, and they are the guest's, not the
// host's), and looks for this very test process by its command line.
TEST_F(CliRun, ProcShowsOnlyTheSandboxesProcesses) {
  HULL_REQUIRE_IMAGE();
  const std::string probe =
      "import os\n"
      "users = []\n"
      "for p in filter(str.isdigit, os.listdir('/proc')):\n"
      "    try: cmd = open('/proc/%s/cmdline' % p, 'rb').read()\n"
      "    except OSError: continue\n"
      "    if cmd: users.append(cmd.replace(b'\\0', b' ').decode(errors='replace'))\n"
      "print(len(users))\n"
      "print('\\n'.join(users))\n";
  auto r = run_hull({"run", "--rm", "--", "python3", "-c", probe});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int n = std::stoi(r.out);
  EXPECT_GE(n, 2) << r.out;  // the agent and python itself
  EXPECT_LE(n, 4) << "processes visible in the sandbox:\n" << r.out;
  EXPECT_EQ(r.out.find("hull_integration_tests"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("supervisor"), std::string::npos) << r.out;
}

// --disk sizes the writable layer: writing past it fails with ENOSPC
// inside, and nothing of it reaches the host's disk or the image.
TEST_F(CliRun, DiskSizesTheWritableLayer) {
  HULL_REQUIRE_IMAGE();
  auto r = run_hull({"run", "--rm", "--disk", "32m", "--", "sh", "-c",
                     "dd if=/dev/zero of=/big bs=1M count=64 2>/dev/null; echo dd=$?; "
                     "df -k / | awk 'NR==2 {print $2}'"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "dd=1") << r.out;
  const long size_kib = std::stol(r.out.substr(r.out.find('\n') + 1));
  EXPECT_GE(size_kib, 30 * 1024) << r.out;
  EXPECT_LE(size_kib, 33 * 1024) << r.out;
  EXPECT_FALSE(fs::exists(rootfs_ + "/big"));
  auto bad = run_hull({"run", "--rm", "--disk", "1m", "--", "true"});
  EXPECT_EQ(bad.exit_code, 125);
  EXPECT_NE(bad.err.find("at least 16m"), std::string::npos) << bad.err;
}

TEST_F(CliRun, HostnameIsTheSandboxName) {
  HULL_REQUIRE_IMAGE();
  auto r = run_hull({"run", "--rm", "--name", "box-1", "--", "cat", "/etc/hostname"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "box-1\n");
}

TEST_F(CliRun, HostFilesOutsideTheWorkspaceAreInvisible) {
  HULL_REQUIRE_IMAGE();
  std::string marker = home_ + "/host-only-marker";
  std::ofstream(marker) << "secret";
  auto r = run_hull({"run", "--rm", "--", "sh", "-c", "test -e '" + marker + "' && echo visible || echo hidden"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hidden\n");
}

TEST_F(CliRun, WorkspaceIsMountedWritable) {
  HULL_REQUIRE_IMAGE();
  fs::create_directories(home_ + "/ws");
  auto r = run_hull({"run", "--rm", "--workspace", home_ + "/ws", "--", "touch", "/workspace/x"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(home_ + "/ws/x"));
}

TEST_F(CliRun, ReadOnlyWorkspaceRejectsWrites) {
  HULL_REQUIRE_IMAGE();
  fs::create_directories(home_ + "/ws");
  auto r = run_hull({"run", "--rm", "--workspace", home_ + "/ws", "--workspace-ro", "--", "touch", "/workspace/x"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(fs::exists(home_ + "/ws/x"));
}

TEST_F(CliRun, WritesInsideDoNotChangeTheImage) {
  HULL_REQUIRE_IMAGE();
  auto r = run_hull({"run", "--rm", "--", "sh", "-c", "echo changed > /etc/hull-cli-test-foo && cat /etc/hull-cli-test-foo"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "changed\n");
  EXPECT_FALSE(fs::exists(rootfs_ + "/etc/hull-cli-test-foo"));
}

TEST_F(CliRun, RmLeavesNoSandboxRecord) {
  HULL_REQUIRE_IMAGE();
  auto r = run_hull({"run", "--rm", "--name", "gone", "--", "true"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(home_ + "/state/sandboxes/gone"));
}

TEST_F(CliRun, DashTGivesAPseudoTerminal) {
  HULL_REQUIRE_IMAGE();
  auto r = run_hull_in_pty({"run", "--rm", "-t", "--", "tty"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("/dev/pts/"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace hull::testing
