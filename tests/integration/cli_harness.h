// Test harness for the `hull` CLI: runs the real HULL_BIN as a child with a
// per-test HULL_HOME, captures stdout/stderr/exit code (or only counts stdout
// bytes, for multi-GiB transfers), optionally under a pseudo-terminal.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hull::testing {

struct HullResult {
  int exit_code = -1;       // 128+signal if the CLI itself was killed
  std::string out, err;     // out stays empty when count_only
  uint64_t out_bytes = 0;
};

struct HullOptions {
  std::optional<std::string> stdin_data;  // none: stdin is /dev/null
  bool count_only = false;                // do not keep stdout, only count it
  std::function<void()> on_tick;          // called about every 50 ms while running
  int timeout_s = 120;                    // then SIGKILL; exit_code -1
};

HullResult run_hull(const std::vector<std::string>& args, const HullOptions& opts = {});
// Runs the CLI with its stdio on a new pseudo-terminal; returns all output.
HullResult run_hull_in_pty(const std::vector<std::string>& args, int timeout_s = 60);

// Pids of live processes whose cmdline contains `needle`.
std::vector<int> processes_mentioning(const std::string& needle);
// Mount points (from /proc/self/mountinfo) under `prefix`.
std::vector<std::string> mounts_under(const std::string& prefix);
// VmRSS of pid in KiB, or -1.
long vm_rss_kib(int pid);

// The default image's rootfs if it is already built (via `hull doctor --json`), else empty.
std::string cached_default_rootfs();

// Each test: a fresh HULL_HOME (exported, so every `hull` child sees it);
// TearDown force-removes whatever sandboxes the test left.
class CliTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // GTEST_SKIP()s the caller when the default image is not built.
  bool have_image();
  bool have_microvm();  // have_image() and QEMU + guest kernel
  static bool backend_usable(const std::string& backend);
  nlohmann::json ls_json(bool all = true);
  nlohmann::json inspect_json(const std::string& name);
  // Polls `hull ls --json` (100 ms apart, up to timeout_s) until sandbox
  // `name` is in a final state (exited/failed); its entry, or null if not.
  nlohmann::json wait_until_final(const std::string& name, int timeout_s = 60);
  // "microvm" when the suite runs against it, else "namespace".
  static std::string backend_under_test();
  std::string home_;
  std::string rootfs_;
  std::string skip_reason_;
};

// Skips (saying why) unless a sandbox can run: the default image is built
// and, when the suite runs against the microvm backend (HULL_BACKEND=microvm,
// set by ctest for the "microvm:" copies of the CLI tests), QEMU and the
// guest kernel are there.
#define HULL_REQUIRE_IMAGE()                        \
  do {                                              \
    if (!have_image()) GTEST_SKIP() << skip_reason_; \
  } while (0)

// Skips (saying why) unless a microVM sandbox can run here.
#define HULL_REQUIRE_MICROVM()                        \
  do {                                                \
    if (!have_microvm()) GTEST_SKIP() << skip_reason_; \
  } while (0)

}  // namespace hull::testing
