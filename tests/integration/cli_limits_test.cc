// A fork bomb and a memory hog, started through the CLI, are stopped by their
// sandbox's limits while a sandbox started before keeps answering.
#include <string>

#include "cli_harness.h"

namespace hull::testing {
namespace {

// Forks until fork() fails, then prints "<forked> <errno>" and exits; every
// child closes its stdio (so the exec's pipes reach EOF) and sleeps on,
// holding its pid slot.
constexpr const char* kForkBomb = R"(
import os, time
n = 0
try:
    while True:
        if os.fork() == 0:
            os.closerange(0, 3)
            while True:
                time.sleep(1000)
        n += 1
except OSError as e:
    print(n, e.errno)
)";

constexpr const char* kMemoryHog = R"(
chunks = []
while True:
    chunks.append(bytearray(1 << 20))  # bytearray() zero-fills: the pages are touched
)";

class CliLimits : public CliTest {
 protected:
  void expect_responsive(const std::string& name) {
    auto r = run_hull({"exec", name, "--", "echo", "still-here"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "still-here\n");
  }
};

TEST_F(CliLimits, ForkBombAndMemoryHogAreStoppedWhileAnotherSandboxStaysResponsive) {
  HULL_REQUIRE_IMAGE();
  auto steady = run_hull({"run", "-d", "--name", "steady", "--", "sleep", "1000"});
  ASSERT_EQ(steady.exit_code, 0) << steady.err;

  // Fork bomb: the pids cgroup (default 1024) makes fork fail with EAGAIN.
  auto bomb_box = run_hull({"run", "-d", "--name", "bomb", "--", "sleep", "1000"});
  ASSERT_EQ(bomb_box.exit_code, 0) << bomb_box.err;
  auto bomb = run_hull({"exec", "bomb", "--", "python3", "-c", kForkBomb});
  ASSERT_EQ(bomb.exit_code, 0) << bomb.err;
  int forked = -1, err = -1;
  ASSERT_EQ(std::sscanf(bomb.out.c_str(), "%d %d", &forked, &err), 2) << bomb.out;
  EXPECT_EQ(err, 11) << "fork should fail with EAGAIN";
  EXPECT_GT(forked, 900) << "the limit should be the pids cgroup, not something lower";
  EXPECT_LT(forked, 1024);
  // ~1000 processes now hold the bomb's pid slots; the other sandbox answers.
  expect_responsive("steady");

  // Memory hog: the memory cgroup kills it; hull reports 128 + SIGKILL.
  auto hog = run_hull({"run", "--rm", "--memory", "64m", "--", "python3", "-c", kMemoryHog});
  EXPECT_EQ(hog.exit_code, 137) << hog.err;
  expect_responsive("steady");

  for (const char* name : {"bomb", "steady"}) {
    auto rm = run_hull({"rm", "-f", name});
    EXPECT_EQ(rm.exit_code, 0) << rm.err;
  }
  EXPECT_TRUE(processes_mentioning(home_).empty());
  EXPECT_TRUE(mounts_under(home_).empty());
}

}  // namespace
}  // namespace hull::testing
