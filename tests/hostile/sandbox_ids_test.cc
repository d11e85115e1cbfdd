// Two namespace sandboxes must never share host ids: per-uid kernel
// accounts (RLIMIT_NPROC, inotify, mqueue) and any host object one could
// reach by uid would be shared. Ids used to come from a hash of the name
// (FNV-1a mod 16384 slots); names that collide under it must still get
// distinct ranges now that ranges are leased.
#include <cstdint>
#include <string>
#include <utility>

#include "../integration/cli_harness.h"

namespace hull::testing {
namespace {

class NamespaceIds : public CliTest {};

uint32_t old_slot(const std::string& name) {
  uint32_t h = 2166136261u;
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  return h % 16384;
}

// Two names the old hash put in one slot.
std::pair<std::string, std::string> colliding_names() {
  std::string first = "clash-0";
  for (int i = 1;; ++i) {
    std::string other = "clash-" + std::to_string(i);
    if (old_slot(other) == old_slot(first)) return {first, other};
  }
}

TEST_F(NamespaceIds, SandboxesWhoseNamesCollidedUnderTheOldHashGetDistinctRanges) {
  HULL_REQUIRE_IMAGE();
  if (!backend_usable("namespace")) GTEST_SKIP() << "the namespace backend cannot run here";
  auto [a, b] = colliding_names();
  for (const auto& n : {a, b}) {
    auto r = run_hull({"run", "-d", "--backend", "namespace", "--name", n, "--", "sleep", "1000"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  auto userns = [&](const std::string& n) {
    return inspect_json(n)["state"]["limits_report"].value("userns", std::string());
  };
  ASSERT_FALSE(userns(a).empty());
  EXPECT_NE(userns(a), userns(b)) << a << " and " << b;
  // And a process's host uid, seen from the host, is not the other's.
  auto uid_of = [&](const std::string& n) {
    return run_hull({"exec", n, "--", "cat", "/proc/self/uid_map"}).out;
  };
  EXPECT_NE(uid_of(a), uid_of(b));
}

}  // namespace
}  // namespace hull::testing
