// hull-agent exec streams with tty=true: a real controlling terminal, its
// size, resizing, and end-of-input.
#include <gtest/gtest.h>

#include "agent_harness.h"

namespace hull::agent_test {
namespace {

wire::ExecRequest tty_command(std::vector<std::string> argv, uint16_t rows = 24, uint16_t cols = 80) {
  auto r = command(std::move(argv));
  r.tty = true;
  r.rows = rows;
  r.cols = cols;
  return r;
}

TEST(AgentPty, TtyCommandSeesAPseudoTerminal) {
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    // Named first: GCC 12 rejects a braced list of literals inside co_await.
    auto request = tty_command({"tty"});
    auto o = co_await exec_collect(h.channel(), request);
    CO_ASSERT_TRUE(o.exit.has_value()) << o.problem;
    EXPECT_EQ(o.exit->exit_code, 0) << o.out;
    EXPECT_EQ(o.out.rfind("/dev/pts/", 0), 0u) << o.out;
    EXPECT_EQ(o.err, "");  // a terminal has one output stream
  });
}

TEST(AgentPty, TerminalStartsAtTheRequestedSizeAndFollowsResize) {
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    // Named first: GCC 12 rejects a braced list of literals inside co_await.
    auto request = tty_command({"sh", "-c", "stty size; read line; stty size"}, 33, 101);
    auto s = co_await h.channel().open(request);
    CO_ASSERT_TRUE(s.ok());
    ExecOutcome o;
    co_await collect(**s, o, "33 101");
    CO_ASSERT_NE(o.out.find("33 101"), std::string::npos) << o.out << o.problem;
    (void)co_await (*s)->send_message(wire::Resize{50, 120});
    (void)co_await (*s)->send_data(wire::StreamFd::kStdin, as_bytes("\n"));
    co_await collect(**s, o);
    (*s)->finish();
    CO_ASSERT_TRUE(o.exit.has_value()) << o.problem;
    EXPECT_EQ(o.exit->exit_code, 0);
    EXPECT_NE(o.out.find("50 120"), std::string::npos) << o.out;
  });
}

TEST(AgentPty, StdinEofEndsInputOfATerminalReader) {
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    // Eof(kStdin) on a terminal is typed as VEOF (^D): cat sees end of input.
    // Named first: GCC 12 rejects a braced list of literals inside co_await.
    auto request = tty_command({"sh", "-c", "stty -echo; wc -c"});
    auto o = co_await exec_collect(h.channel(), request, "abcd\n");
    CO_ASSERT_TRUE(o.exit.has_value()) << o.problem;
    EXPECT_EQ(o.exit->exit_code, 0);
    EXPECT_NE(o.out.find("5\r\n"), std::string::npos) << o.out;
  });
}

TEST(AgentPty, SignalAndProcessGroupWorkWithATerminal) {
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    // Named first: GCC 12 rejects a braced list of literals inside co_await.
    auto request = tty_command({"sh", "-c", "echo ready; sleep 1000"});
    auto s = co_await h.channel().open(request);
    CO_ASSERT_TRUE(s.ok());
    ExecOutcome o;
    co_await collect(**s, o, "ready");
    (void)co_await (*s)->send_message(wire::Signal{9});
    co_await collect(**s, o);
    (*s)->finish();
    CO_ASSERT_TRUE(o.exit.has_value()) << o.problem;
    EXPECT_EQ(o.exit->signal, 9);
  });
}

}  // namespace
}  // namespace hull::agent_test
