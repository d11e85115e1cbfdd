// Streaming through the supervisor: 1 GiB from a process reaches the client
// intact while the supervisor's memory stays bounded (flow control works).
#include <algorithm>
#include <cstdio>

#include "cli_harness.h"

namespace hull::testing {
namespace {

class CliStream : public CliTest {};

TEST_F(CliStream, ExecOfOneGiBArrivesIntactWithBoundedSupervisorMemory) {
  HULL_REQUIRE_IMAGE();
  auto d = run_hull({"run", "-d", "--name", "big", "--", "sleep", "1000"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  int supervisor_pid = inspect_json("big")["state"].value("supervisor_pid", 0);
  ASSERT_GT(supervisor_pid, 0);

  long max_rss = 0;
  HullOptions o;
  o.count_only = true;
  o.timeout_s = 300;
  o.on_tick = [&] { max_rss = std::max(max_rss, vm_rss_kib(supervisor_pid)); };
  auto r = run_hull({"exec", "big", "--", "head", "-c", "1G", "/dev/zero"}, o);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out_bytes, 1ull << 30);
  EXPECT_GT(max_rss, 0);
  EXPECT_LT(max_rss, 64 * 1024) << "supervisor VmRSS peaked at " << max_rss << " KiB";
  std::printf("supervisor peak VmRSS during 1 GiB exec: %ld KiB\n", max_rss);
}

}  // namespace
}  // namespace hull::testing
