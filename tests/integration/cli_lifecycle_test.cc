// Detached sandboxes: run -d, exec, ls, stop, rm -f, cp, logs — and that
// removing one leaves no process and no mount behind.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cli_harness.h"
#include "supervisor_harness.h"

namespace hull::testing {
namespace {

namespace fs = std::filesystem;

class CliLifecycle : public CliTest {
 protected:
  void start_sleeper(const std::string& name) {
    auto r = run_hull({"run", "-d", "--name", name, "--", "sleep", "1000"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(r.out, name + "\n");
  }
};

TEST_F(CliLifecycle, DetachedSandboxCanBeExecListedAndRemovedWithoutLeftovers) {
  HULL_REQUIRE_IMAGE();
  start_sleeper("a");
  auto e = run_hull({"exec", "a", "--", "echo", "ok"});
  EXPECT_EQ(e.exit_code, 0) << e.err;
  EXPECT_EQ(e.out, "ok\n");

  auto ls = ls_json(false);
  ASSERT_TRUE(ls.is_array());
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_EQ(ls[0]["name"], "a");
  EXPECT_EQ(ls[0]["status"], "running");

  auto info = inspect_json("a");
  int supervisor_pid = info["state"].value("supervisor_pid", 0);
  int boundary_pid = info["state"].value("boundary_pid", 0);
  EXPECT_GT(supervisor_pid, 0);

  auto rm = run_hull({"rm", "-f", "a"});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_FALSE(fs::exists(home_ + "/state/sandboxes/a"));
  EXPECT_TRUE(processes_mentioning(home_).empty());
  // A zombie counts as gone: the supervisor is re-parented to PID 1, which
  // on some CI containers never reaps.
  EXPECT_FALSE(supervisor::testing::process_running(supervisor_pid)) << "supervisor still alive";
  if (boundary_pid > 0) {
    EXPECT_FALSE(supervisor::testing::process_running(boundary_pid)) << "boundary process still alive";
  }
  EXPECT_TRUE(mounts_under(home_).empty());
}

// The cgroup directories a process is in, below the hierarchies' mount points.
std::vector<std::string> cgroup_dirs_of(int pid) {
  std::vector<std::string> dirs;
  std::ifstream f("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line;
  while (std::getline(f, line)) {
    // "4:memory:/a/b" (v1) or "0::/a/b" (v2)
    auto c1 = line.find(':'), c2 = line.find(':', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    std::string ctrl = line.substr(c1 + 1, c2 - c1 - 1), path = line.substr(c2 + 1);
    if (path.find("hull-") == std::string::npos) continue;
    if (ctrl.empty()) {
      dirs.push_back("/sys/fs/cgroup/unified" + path);
      dirs.push_back("/sys/fs/cgroup" + path);
    } else {
      dirs.push_back("/sys/fs/cgroup/" + ctrl.substr(0, ctrl.find(',')) + path);
    }
  }
  return dirs;
}

TEST_F(CliLifecycle, KilledSupervisorsRemainsAreReapedByTheNextCommand) {
  HULL_REQUIRE_IMAGE();
  start_sleeper("k");
  auto info = inspect_json("k");
  int supervisor_pid = info["state"].value("supervisor_pid", 0);
  int boundary_pid = info["state"].value("boundary_pid", 0);
  ASSERT_GT(supervisor_pid, 0);
  ASSERT_GT(boundary_pid, 0);
  auto cgroups = cgroup_dirs_of(boundary_pid);
  EXPECT_FALSE(cgroups.empty()) << "the sandbox should be in its own cgroups";

  ASSERT_TRUE(supervisor::testing::kill_and_wait_gone(supervisor_pid));
  auto ls = ls_json(true);
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_EQ(ls[0]["status"], "failed");
  auto rm = run_hull({"rm", "k"});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_FALSE(supervisor::testing::process_running(boundary_pid));
  EXPECT_TRUE(processes_mentioning(home_).empty());
  EXPECT_TRUE(mounts_under(home_).empty());
  for (const auto& d : cgroups) EXPECT_FALSE(fs::exists(d)) << "cgroup left behind: " << d;
}

// A sandbox that stops answering (its boundary frozen from the host: for a
// microVM the whole QEMU, for a namespace sandbox its agent) is declared
// hung by the supervisor's watchdog, stopped, and reported.
TEST_F(CliLifecycle, HungSandboxIsStoppedAndReported) {
  HULL_REQUIRE_IMAGE();
  ::setenv("HULL_AGENT_TIMEOUT_MS", "2000", 1);
  start_sleeper("h");
  ::unsetenv("HULL_AGENT_TIMEOUT_MS");
  int boundary_pid = inspect_json("h")["state"].value("boundary_pid", 0);
  ASSERT_GT(boundary_pid, 0);
  ASSERT_EQ(::kill(boundary_pid, SIGSTOP), 0);
  auto e = wait_until_final("h", 60);
  ASSERT_FALSE(e.is_null()) << "the watchdog did not stop a frozen sandbox";
  EXPECT_EQ(e["status"], "failed");
  EXPECT_NE(e.value("error", "").find("sandbox hung: its agent answered no health check for 2 s"),
            std::string::npos)
      << e.dump();
  EXPECT_FALSE(supervisor::testing::process_running(boundary_pid));
  auto rm = run_hull({"rm", "h"});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_TRUE(processes_mentioning(home_).empty());
}

TEST_F(CliLifecycle, RmRefusesARunningSandboxWithoutForce) {
  HULL_REQUIRE_IMAGE();
  start_sleeper("busy");
  auto r = run_hull({"rm", "busy"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("is running"), std::string::npos) << r.err;
}

TEST_F(CliLifecycle, StopEndsTheSandboxAndExecThenSaysNotRunning) {
  HULL_REQUIRE_IMAGE();
  start_sleeper("s");
  auto st = run_hull({"stop", "s"});
  EXPECT_EQ(st.exit_code, 0) << st.err;
  auto ls = ls_json(true);
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_EQ(ls[0]["status"], "exited");
  auto e = run_hull({"exec", "s", "--", "true"});
  EXPECT_EQ(e.exit_code, 125);
  EXPECT_NE(e.err.find("sandbox 's' is not running (status: exited)"), std::string::npos) << e.err;
}

TEST_F(CliLifecycle, CpCopiesAFileInAndOut) {
  HULL_REQUIRE_IMAGE();
  start_sleeper("c");
  std::string src = home_ + "/in.bin", back = home_ + "/out.bin";
  {
    std::ofstream f(src, std::ios::binary);
    for (int i = 0; i < 300000; ++i) f << i << '\n';  // ~2 MB: several credit windows
  }
  auto in = run_hull({"cp", src, "c:/tmp/in.bin"});
  ASSERT_EQ(in.exit_code, 0) << in.err;
  auto out = run_hull({"cp", "c:/tmp/in.bin", back});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  std::ifstream a(src, std::ios::binary), b(back, std::ios::binary);
  std::string sa((std::istreambuf_iterator<char>(a)), {}), sb((std::istreambuf_iterator<char>(b)), {});
  EXPECT_EQ(sa.size(), sb.size());
  EXPECT_TRUE(sa == sb);

  auto dir = run_hull({"cp", "c:/etc", back});
  EXPECT_EQ(dir.exit_code, 125);
  EXPECT_NE(dir.err.find("copying directories is not supported yet"), std::string::npos) << dir.err;
}

TEST_F(CliLifecycle, LogsShowTheDetachedCommandsOutput) {
  HULL_REQUIRE_IMAGE();
  auto r = run_hull({"run", "-d", "--name", "l", "--", "sh", "-c", "echo from-main"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto logs = run_hull({"logs", "-f", "l"}, [] { HullOptions o; o.timeout_s = 30; return o; }());
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_NE(logs.out.find("from-main"), std::string::npos) << logs.out;
}

}  // namespace
}  // namespace hull::testing
