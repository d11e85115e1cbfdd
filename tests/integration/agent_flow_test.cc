// hull-agent flow control: output is throttled by the host's credit all the
// way back to the producing process, so agent memory stays bounded.
#include <signal.h>

#include <chrono>
#include <cstdio>

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "agent_harness.h"

namespace hull::agent_test {
namespace {

std::string read_text_file(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

TEST(AgentFlow, LargeOutputArrivesIntactWhileAgentMemoryStaysBounded) {
  constexpr uint64_t kBytes = 200ull << 20;
  constexpr long kRssLimitKib = 32 * 1024;
  AgentHarness h;
  long rss_before = rss_kib(h.agent_pid());
  long rss_max = 0;
  uint64_t received = 0;
  bool all_zero = true;
  double seconds = 0;
  h.run([&]() -> asio::awaitable<void> {
    // Named first: GCC 12 rejects a braced list of literals inside co_await.
    auto request = command({"head", "-c", std::to_string(kBytes), "/dev/zero"});
    auto s = co_await h.channel().open(request);
    CO_ASSERT_TRUE(s.ok());
    auto& stream = **s;
    const auto start = std::chrono::steady_clock::now();
    uint64_t next_sample = 0;
    std::optional<wire::ExecExit> exit;
    while (!exit) {
      auto in = co_await stream.receive();
      if (in.kind == wire::Incoming::Kind::kData) {
        for (std::byte b : in.data) all_zero &= (b == std::byte{0});
        received += in.data.size();
        stream.consume(in.data.size());
        if (received >= next_sample) {  // sample every 4 MiB of progress
          rss_max = std::max(rss_max, rss_kib(h.agent_pid()));
          next_sample += 4u << 20;
        }
      } else if (in.kind == wire::Incoming::Kind::kMessage) {
        if (auto* e = std::get_if<wire::ExecExit>(&in.message)) exit = *e;
      } else if (in.kind != wire::Incoming::Kind::kEof) {
        ADD_FAILURE() << "stream ended early: " << in.reason;
        co_return;
      }
    }
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    stream.finish();
    EXPECT_EQ(exit->exit_code, 0);
  }, 300s);
  EXPECT_EQ(received, kBytes);
  EXPECT_TRUE(all_zero);
  EXPECT_LT(rss_max, kRssLimitKib);
  std::printf("[ agent ] 200 MiB output: %.1f MiB/s, agent VmRSS %ld KiB before, max %ld KiB during\n",
              kBytes / 1048576.0 / seconds, rss_before, rss_max);
}

TEST(AgentFlow, WithheldCreditStopsTheProducingProcess) {
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    // Named first: GCC 12 rejects a braced list of literals inside co_await.
    auto request = command({"head", "-c", "50000000", "/dev/zero"});
    auto s = co_await h.channel().open(request);
    CO_ASSERT_TRUE(s.ok());
    auto& stream = **s;
    std::optional<int32_t> pid;
    uint64_t received = 0;
    std::vector<size_t> unconsumed;
    // Receive without consume(): the agent may send one window and no more.
    while (received < wire::kInitialWindow) {
      auto in = co_await stream.receive();
      if (in.kind == wire::Incoming::Kind::kMessage) {
        if (auto* st = std::get_if<wire::ExecStarted>(&in.message)) pid = st->pid;
        continue;
      }
      CO_ASSERT_TRUE(in.kind == wire::Incoming::Kind::kData) << in.reason;
      received += in.data.size();
      unconsumed.push_back(in.data.size());
    }
    CO_ASSERT_TRUE(pid.has_value());
    EXPECT_EQ(received, wire::kInitialWindow);
    // State, not timing: the producer's written-bytes counter must stop
    // moving while it is still alive (blocked on its full pipe). The wait
    // only decides that we have looked long enough.
    // First let the producer fill what it may (the pipe and the agent's
    // buffer): it ends up asleep in (anon_)pipe_write. Bounded wait for that.
    auto blocked_on_pipe = [&] {
      std::string w = read_text_file("/proc/" + std::to_string(*pid) + "/wchan");
      return w.size() >= 10 && w.compare(w.size() - 10, 10, "pipe_write") == 0;
    };
    for (int i = 0; i < 1000 && !blocked_on_pipe(); ++i) co_await sleep_for(10ms);
    EXPECT_TRUE(blocked_on_pipe());
    const long long w1 = bytes_written(*pid);
    co_await sleep_for(500ms);
    const long long w2 = bytes_written(*pid);
    EXPECT_EQ(w1, w2) << "the producer kept writing without credit";
    EXPECT_NE(process_state(*pid), 0) << "the producer is gone";
    EXPECT_NE(process_state(*pid), 'Z');
    // Bounded backlog: the window, one pipe, one agent chunk (plus slack).
    EXPECT_LT(w2, 2ll << 20) << "the producer got far ahead of the credit";
    // Now grant the credit back: the rest flows and the count is exact.
    for (size_t n : unconsumed) stream.consume(n);
    std::optional<wire::ExecExit> exit;
    while (!exit) {
      auto in = co_await stream.receive();
      if (in.kind == wire::Incoming::Kind::kData) {
        received += in.data.size();
        stream.consume(in.data.size());
      } else if (in.kind == wire::Incoming::Kind::kMessage) {
        if (auto* e = std::get_if<wire::ExecExit>(&in.message)) exit = *e;
      } else if (in.kind != wire::Incoming::Kind::kEof) {
        ADD_FAILURE() << in.reason;
        co_return;
      }
    }
    stream.finish();
    EXPECT_EQ(received, 50000000u);
    EXPECT_EQ(exit->exit_code, 0);
  }, 120s);
}

}  // namespace
}  // namespace hull::agent_test
