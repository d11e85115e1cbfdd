// hull-agent exec streams over pipes: spawn results, stdio, signals, timeouts.
#include <signal.h>
#include <sys/stat.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <fstream>

#include <gtest/gtest.h>

#include "agent_harness.h"
#include "base/temp_dir.h"

namespace hull::agent_test {
namespace {

TEST(AgentExec, ShellCommandReportsStartedOutputAndExitCode) {
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    // Named first: GCC 12 rejects a braced list of literals inside co_await.
    auto request = command({"sh", "-c", "echo hi; exit 7"});
    auto o = co_await exec_collect(h.channel(), request);
    EXPECT_EQ(o.problem, "");
    CO_ASSERT_TRUE(o.started_pid.has_value());
    EXPECT_GT(*o.started_pid, 0);
    EXPECT_EQ(o.out, "hi\n");
    EXPECT_TRUE(o.out_eof);
    EXPECT_TRUE(o.err_eof);
    CO_ASSERT_TRUE(o.exit.has_value());
    EXPECT_EQ(o.exit->spawn_error, wire::SpawnError::kNone);
    EXPECT_EQ(o.exit->exit_code, 7);
    EXPECT_EQ(o.exit->signal, 0);
    EXPECT_FALSE(o.exit->timed_out);
  });
}

TEST(AgentExec, MissingCommandIsReportedAsNotFound) {
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    // Named first: GCC 12 rejects a braced list of literals inside co_await.
    auto request = command({"hull-no-such-command-xyz"});
    auto o = co_await exec_collect(h.channel(), request);
    CO_ASSERT_TRUE(o.exit.has_value()) << o.problem;
    EXPECT_FALSE(o.started_pid.has_value());
    EXPECT_EQ(o.exit->spawn_error, wire::SpawnError::kNotFound);
    EXPECT_NE(o.exit->error.find("hull-no-such-command-xyz"), std::string::npos) << o.exit->error;
  });
}

TEST(AgentExec, NonExecutableFileIsReportedAsNotExecutable) {
  auto dir = TempDir::create("/tmp", "agent-exec-");
  ASSERT_TRUE(dir.ok());
  std::string path = dir->path() + "/script";
  std::ofstream(path) << "#!/bin/sh\necho no\n";
  ::chmod(path.c_str(), 0644);
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    // Named first: GCC 12 rejects a braced list of literals inside co_await.
    auto request = command({path});
    auto o = co_await exec_collect(h.channel(), request);
    CO_ASSERT_TRUE(o.exit.has_value()) << o.problem;
    EXPECT_EQ(o.exit->spawn_error, wire::SpawnError::kNotExecutable) << o.exit->error;
    // A directory is not executable either.
    auto dir_request = command({dir->path()});
    auto d = co_await exec_collect(h.channel(), dir_request);
    CO_ASSERT_TRUE(d.exit.has_value()) << d.problem;
    EXPECT_EQ(d.exit->spawn_error, wire::SpawnError::kNotExecutable) << d.exit->error;
  });
}

TEST(AgentExec, MissingWorkingDirectoryIsAnErrorNamingIt) {
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    auto req = command({"true"});
    req.cwd = "/hull/no/such/dir";
    auto o = co_await exec_collect(h.channel(), req);
    CO_ASSERT_TRUE(o.exit.has_value()) << o.problem;
    EXPECT_EQ(o.exit->spawn_error, wire::SpawnError::kOther);
    EXPECT_NE(o.exit->error.find("chdir /hull/no/such/dir"), std::string::npos) << o.exit->error;
  });
}

TEST(AgentExec, CommandIsLookedUpInTheRequestsPath) {
  auto dir = TempDir::create("/tmp", "agent-path-");
  ASSERT_TRUE(dir.ok());
  std::string tool = dir->path() + "/hull-test-tool";
  std::ofstream(tool) << "#!/bin/sh\necho from-path \"$PWD\"\n";
  ::chmod(tool.c_str(), 0755);
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    auto req = command({"hull-test-tool"});
    req.env = {"PATH=/nonexistent:" + dir->path() + ":/bin:/usr/bin"};
    req.cwd = dir->path();
    auto o = co_await exec_collect(h.channel(), req);
    CO_ASSERT_TRUE(o.exit.has_value()) << o.problem;
    EXPECT_EQ(o.exit->spawn_error, wire::SpawnError::kNone) << o.exit->error;
    EXPECT_EQ(o.out, "from-path " + dir->path() + "\n");
  });
}

TEST(AgentExec, StdinRoundTripsThroughCat) {
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    // Bigger than one window, so credit has to flow both ways.
    std::string input;
    for (int i = 0; input.size() < 1u << 20; ++i) input += "line " + std::to_string(i) + "\n";
    // Named first: GCC 12 rejects a braced list of literals inside co_await.
    auto request = command({"cat"});
    auto o = co_await exec_collect(h.channel(), request, input);
    CO_ASSERT_TRUE(o.exit.has_value()) << o.problem;
    EXPECT_EQ(o.exit->exit_code, 0);
    EXPECT_EQ(o.out.size(), input.size());
    EXPECT_TRUE(o.out == input);
  });
}

TEST(AgentExec, StderrArrivesSeparatelyFromStdout) {
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    // Named first: GCC 12 rejects a braced list of literals inside co_await.
    auto request = command({"sh", "-c", "echo out; echo err >&2; exit 3"});
    auto o = co_await exec_collect(h.channel(), request);
    CO_ASSERT_TRUE(o.exit.has_value()) << o.problem;
    EXPECT_EQ(o.out, "out\n");
    EXPECT_EQ(o.err, "err\n");
    EXPECT_EQ(o.exit->exit_code, 3);
  });
}

TEST(AgentExec, SignalIsDeliveredToTheProcessGroup) {
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    // Named first: GCC 12 rejects a braced list of literals inside co_await.
    auto request = command({"sh", "-c", "echo ready; sleep 1000"});
    auto s = co_await h.channel().open(request);
    CO_ASSERT_TRUE(s.ok());
    ExecOutcome o;
    co_await collect(**s, o, "ready\n");
    CO_ASSERT_EQ(o.out, "ready\n") << o.problem;
    (void)co_await (*s)->send_message(wire::Signal{SIGTERM});
    co_await collect(**s, o);
    (*s)->finish();
    CO_ASSERT_TRUE(o.exit.has_value()) << o.problem;
    EXPECT_EQ(o.exit->signal, SIGTERM);
    EXPECT_EQ(o.exit->exit_code, -1);
    EXPECT_FALSE(o.exit->timed_out);
  });
}

TEST(AgentExec, TimeoutKillsTheProcessGroupAndSaysSo) {
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    auto req = command({"sh", "-c", "sleep 1000"});
    req.timeout_ms = 200;
    const auto start = std::chrono::steady_clock::now();
    auto o = co_await exec_collect(h.channel(), req);
    CO_ASSERT_TRUE(o.exit.has_value()) << o.problem;
    EXPECT_TRUE(o.exit->timed_out);
    EXPECT_EQ(o.exit->signal, SIGKILL);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  });
}

TEST(AgentExec, HostResetKillsTheProcess) {
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    // Named first: GCC 12 rejects a braced list of literals inside co_await.
    auto request = command({"sh", "-c", "echo ready; exec sleep 1000"});
    auto s = co_await h.channel().open(request);
    CO_ASSERT_TRUE(s.ok());
    ExecOutcome o;
    co_await collect(**s, o, "ready\n");
    CO_ASSERT_TRUE(o.started_pid.has_value());
    const pid_t pid = *o.started_pid;
    (*s)->reset("test gives up");
    EXPECT_TRUE(co_await wait_process_exit(pid, 5000ms)) << "process " << pid << " survived the reset";
  });
}

TEST(AgentExec, ManyConcurrentExecsAllComplete) {
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    constexpr int kCount = 24;
    std::vector<ExecOutcome> results(kCount);
    Latch done(h.ex(), kCount);
    for (int i = 0; i < kCount; ++i) {
      asio::co_spawn(
          h.ex(),
          [&, i]() -> asio::awaitable<void> {
            auto request = command(
                {"sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x; exit " + std::to_string(i)});
            results[i] = co_await exec_collect(h.channel(), request);
            done.count_down();
          },
          asio::detached);
    }
    EXPECT_TRUE(co_await done.wait(60000ms));
    for (int i = 0; i < kCount; ++i) {
      CO_ASSERT_TRUE(results[i].exit.has_value()) << i << ": " << results[i].problem;
      EXPECT_EQ(results[i].exit->exit_code, i);
      EXPECT_EQ(results[i].out.size(), 100000u);
    }
  });
}

TEST(AgentExec, UnsupportedRequestIsResetAndTheAgentStaysUp) {
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    auto s = co_await h.channel().open(wire::Health{});
    if (s.ok()) {
      auto in = co_await (*s)->receive();
      EXPECT_EQ(in.kind, wire::Incoming::Kind::kReset);
    }
    // Named first: GCC 12 rejects a braced list of literals inside co_await.
    auto request = command({"true"});
    auto o = co_await exec_collect(h.channel(), request);
    CO_ASSERT_TRUE(o.exit.has_value()) << o.problem;
    EXPECT_EQ(o.exit->exit_code, 0);
  });
}

}  // namespace
}  // namespace hull::agent_test
