// hull-agent as a whole: Ready, Health, Shutdown, and losing the channel.
#include <signal.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <chrono>

#include <gtest/gtest.h>

#include "agent_harness.h"

namespace hull::agent_test {
namespace {

TEST(AgentLifecycle, ReadyNamesTheHostnameAndKernel) {
  AgentHarness h;
  struct utsname u {};
  ::uname(&u);
  EXPECT_EQ(h.ready().kernel, u.release);
  EXPECT_EQ(h.ready().hostname, u.nodename);
}

TEST(AgentLifecycle, HealthReportsRunningProcessesAndUptime) {
  const auto before = std::chrono::steady_clock::now();
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    // Named first: GCC 12 rejects a braced list of literals inside co_await.
    auto request = command({"sh", "-c", "echo ready; sleep 1000"});
    auto s = co_await h.channel().open(request);
    CO_ASSERT_TRUE(s.ok());
    ExecOutcome o;
    co_await collect(**s, o, "ready");
    (void)co_await h.channel().send_control(wire::Health{});
    auto reply = co_await h.channel().receive_control();
    CO_ASSERT_TRUE(reply.ok());
    auto* hr = std::get_if<wire::HealthReply>(&*reply);
    CO_ASSERT_TRUE(hr != nullptr) << wire::message_name(*reply);
    EXPECT_EQ(hr->processes, 1u);
    // The agent's uptime fits in the time since the test started it (it can
    // be 0: the agent may answer within its first millisecond).
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - before);
    EXPECT_LE(hr->uptime_ms, static_cast<uint64_t>(elapsed.count()));
    (*s)->reset("done");
  });
}

TEST(AgentLifecycle, ShutdownTerminatesProcessesAndTheAgentExits) {
  AgentHarness h;
  std::optional<wire::ExecExit> polite, stubborn;
  h.run([&]() -> asio::awaitable<void> {
    // One process that dies on SIGTERM, one that ignores it (needs SIGKILL).
    // Named first: GCC 12 rejects a braced list of literals inside co_await.
    auto request = command({"sh", "-c", "echo ready; exec sleep 1000"});
    auto a = co_await h.channel().open(request);
    auto stubborn_request = command({"sh", "-c", "trap '' TERM; echo ready; while :; do read x; done"});
    auto b = co_await h.channel().open(stubborn_request);
    CO_ASSERT_TRUE(a.ok() && b.ok());
    ExecOutcome oa, ob;
    co_await collect(**a, oa, "ready");
    co_await collect(**b, ob, "ready");
    (void)co_await h.channel().send_control(wire::Shutdown{300});
    co_await collect(**a, oa);
    co_await collect(**b, ob);
    polite = oa.exit;
    stubborn = ob.exit;
  });
  ASSERT_TRUE(polite.has_value());
  EXPECT_EQ(polite->signal, SIGTERM);
  ASSERT_TRUE(stubborn.has_value());
  EXPECT_EQ(stubborn->signal, SIGKILL);
  auto status = h.wait_agent_exit(5000ms);
  ASSERT_TRUE(status.has_value()) << "the agent did not exit after Shutdown";
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

TEST(AgentLifecycle, ClosingTheChannelKillsProcessesAndTheAgentExits) {
  AgentHarness h;
  pid_t child = 0;
  h.run([&]() -> asio::awaitable<void> {
    // Named first: GCC 12 rejects a braced list of literals inside co_await.
    auto request = command({"sh", "-c", "echo ready; exec sleep 1000"});
    auto s = co_await h.channel().open(request);
    CO_ASSERT_TRUE(s.ok());
    ExecOutcome o;
    co_await collect(**s, o, "ready");
    child = *o.started_pid;
    h.channel().close("host goes away");
  });
  auto status = h.wait_agent_exit(5000ms);
  ASSERT_TRUE(status.has_value()) << "the agent did not exit when the channel closed";
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  EXPECT_EQ(process_state(child), 0) << "the command outlived the agent";
}

TEST(AgentLifecycle, SigtermToTheAgentIsAShutdown) {
  AgentHarness h;
  ::kill(h.agent_pid(), SIGTERM);
  auto status = h.wait_agent_exit(5000ms);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

TEST(AgentLifecycle, OrphanedGrandchildrenAreReaped) {
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    // The background sleep outlives its shell; the agent (subreaper here,
    // PID 1 in a sandbox) must reap it when it exits, leaving no zombie.
    // Named first: GCC 12 rejects a braced list of literals inside co_await.
    auto request = command({"sh", "-c", "sleep 0.2 >/dev/null 2>&1 & echo $!"});
    auto o = co_await exec_collect(h.channel(), request);
    CO_ASSERT_TRUE(o.exit.has_value()) << o.problem;
    const pid_t orphan = std::stoi(o.out);
    EXPECT_TRUE(co_await wait_process_exit(orphan, 5000ms));
    // wait_process_exit sees the exit; the reap follows on SIGCHLD.
    for (int i = 0; i < 50 && process_state(orphan) == 'Z'; ++i) co_await sleep_for(20ms);
    EXPECT_EQ(process_state(orphan), 0) << "orphan left as a zombie";
  });
}

}  // namespace
}  // namespace hull::agent_test
