// Test harness for hull-agent: runs the real built agent (HULL_AGENT_BIN) as
// an ordinary child with one end of a socketpair as fd 3, and drives it with a
// wire::Channel (initiator) on the test's own io_context.
#pragma once

#include <sys/types.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/fd.h"
#include "wire/channel.h"
#include "wire/messages.h"

// gtest's ASSERT_* `return`, which a coroutine may not: these co_return.
// The loop form (rather than `co_return GTEST_MESSAGE_AT_(...)`) avoids a GCC
// 12 bug ("array used as initializer" for __FILE__ in a co_return operand)
// and still lets a test append `<< context` to the failure message.
#define HULL_CO_CHECK_(cond, text)                                                  \
  for (bool hull_co_failed_ = false;; hull_co_failed_ = true)                      \
    if (hull_co_failed_) co_return;                                                \
    else if (cond) break;                                                          \
    else GTEST_MESSAGE_AT_(__FILE__, __LINE__, text, ::testing::TestPartResult::kFatalFailure)
#define CO_ASSERT_TRUE(cond) HULL_CO_CHECK_((cond), "Expected: " #cond)
#define CO_ASSERT_EQ(a, b) \
  HULL_CO_CHECK_((a) == (b), "Expected: " #a " == " #b) << (a) << " vs " << (b) << " "
#define CO_ASSERT_NE(a, b) HULL_CO_CHECK_((a) != (b), "Expected: " #a " != " #b)

namespace hull::agent_test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class AgentHarness {
 public:
  AgentHarness();  // spawns the agent, handshakes, waits for Ready
  ~AgentHarness();  // closes the channel, waits (bounded) for the agent to exit

  // Runs `body` on the io_context until it completes; the test fails (and
  // the channel is closed) if it takes longer than `limit`.
  void run(std::function<asio::awaitable<void>()> body, std::chrono::seconds limit = 60s);
  // Waits (bounded) for the agent process to exit; its wait status or nullopt.
  std::optional<int> wait_agent_exit(std::chrono::milliseconds limit);

  wire::Channel& channel() { return *channel_; }
  pid_t agent_pid() const { return pid_; }
  const wire::Ready& ready() const { return ready_; }
  asio::any_io_executor ex() { return io_.get_executor(); }

 private:
  asio::io_context io_;
  std::unique_ptr<wire::Channel> channel_;
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  bool exited_ = false;
  wire::Ready ready_;
};

struct ExecOutcome {
  std::optional<int32_t> started_pid;
  std::string out, err;
  bool out_eof = false, err_eof = false;
  std::optional<wire::ExecExit> exit;
  std::string problem;  // reset/closed reason, unexpected message
};

wire::ExecRequest command(std::vector<std::string> argv);
std::vector<std::string> default_env();

// Opens an exec stream, sends `input` then Eof(kStdin), collects everything
// until ExecExit (consuming all data), finishes the stream.
asio::awaitable<ExecOutcome> exec_collect(wire::Channel& ch, wire::ExecRequest req,
                                          std::string input = {});
// Receives on `s` until ExecExit (or the end), appending into `o`; data is
// consumed. Stops early once `o.out` contains `until` (if non-empty).
asio::awaitable<void> collect(wire::Stream& s, ExecOutcome& o, const std::string& until = {});

// VmRSS of a process in KiB (0 if unreadable).
long rss_kib(pid_t pid);
// The "wchar" counter of /proc/<pid>/io: bytes the process has written.
long long bytes_written(pid_t pid);
// The state letter of /proc/<pid>/stat ('S', 'R', 'Z'...), or 0 if gone.
char process_state(pid_t pid);

asio::awaitable<void> sleep_for(std::chrono::milliseconds d);
// Until process `pid` (any process, not only our child) has exited, via a
// pidfd; false if `limit` passed first.
asio::awaitable<bool> wait_process_exit(pid_t pid, std::chrono::milliseconds limit);

// Counts down to zero; wait() returns then (or false after `limit`).
class Latch {
 public:
  Latch(asio::any_io_executor ex, int count);
  void count_down();
  asio::awaitable<bool> wait(std::chrono::milliseconds limit);

 private:
  int count_;
  std::unique_ptr<boost::asio::steady_timer> timer_;
};

std::span<const std::byte> as_bytes(const std::string& s);

}  // namespace hull::agent_test
