// The supervisor with the real hull-agent: a "run" client's first exec is
// the main command; its exit code ends the sandbox; detach mode writes
// main.log; Shutdown and SIGTERM stop it; memory stays bounded under a 1 GiB
// relay; a dead supervisor is noticed and reaped.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "supervisor_harness.h"

namespace hull::supervisor {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::SupervisorProcess;

std::string agent_bin() { return HULL_AGENT_BIN; }

struct ExecResult {
  bool handshake_ok = false;
  std::string out, err;
  uint64_t out_bytes = 0;
  std::optional<wire::ExecExit> exit;
  std::string ended;  // reset/closed reason, if it ended without ExecExit
};

// Opens one exec on the supervisor as `role`, reads it to the end (counting
// rather than keeping stdout beyond `keep` bytes) and returns how it went.
asio::awaitable<void> run_exec(wire::Channel& ch, std::string role, wire::ExecRequest req,
                               ExecResult& r, size_t keep = 1 << 20) {
  auto h = co_await ch.handshake(wire::Hello{wire::kProtocolVersion, role, "test"});
  r.handshake_ok = h.ok() && h->role == "supervisor";
  if (!h) co_return;
  asio::co_spawn(co_await asio::this_coro::executor, ch.run(), asio::detached);
  auto s = co_await ch.open(req);
  if (!s) {
    r.ended = s.error().message();
    co_return;
  }
  (void)co_await (*s)->send_eof(wire::StreamFd::kStdin);
  for (;;) {
    wire::Incoming in = co_await (*s)->receive();
    switch (in.kind) {
      case wire::Incoming::Kind::kData: {
        std::string& dst = in.fd == wire::StreamFd::kStderr ? r.err : r.out;
        if (in.fd != wire::StreamFd::kStderr) r.out_bytes += in.data.size();
        if (dst.size() < keep) dst.append(reinterpret_cast<const char*>(in.data.data()),
                                          std::min(keep - dst.size(), in.data.size()));
        (*s)->consume(in.data.size());
        break;
      }
      case wire::Incoming::Kind::kMessage:
        if (auto* e = std::get_if<wire::ExecExit>(&in.message)) {
          r.exit = *e;
          (*s)->finish();
          co_return;
        }
        break;
      case wire::Incoming::Kind::kEof: break;
      case wire::Incoming::Kind::kReset:
      case wire::Incoming::Kind::kClosed:
        r.ended = in.reason.empty() ? "closed" : in.reason;
        co_return;
    }
  }
}

ExecResult exec_on(SupervisorProcess& sp, const std::string& role, wire::ExecRequest req,
                   std::chrono::seconds timeout = 60s, size_t keep = 1 << 20) {
  asio::io_context io;
  wire::Channel ch(io.get_executor(), testing::connect_unix(sp.socket_path()),
                   wire::Channel::Side::kInitiator);
  ExecResult r;
  asio::co_spawn(io, run_exec(ch, role, std::move(req), r, keep), [&](std::exception_ptr) {
    ch.close("test done");
    io.stop();
  });
  io.run_for(timeout);
  return r;
}

TEST(SupervisorLifecycle, RunClientsMainCommandExitCodeEndsTheSandbox) {
  HULL_REQUIRE_ROOTFS();
  SandboxSpec spec;
  spec.command = {"sh", "-c", "echo hi; exit 7"};
  SupervisorProcess sp(spec, agent_bin());
  ASSERT_EQ(sp.start(), "ok");
  SandboxState running = sp.state();
  EXPECT_EQ(running.status, SandboxStatus::kRunning);
  EXPECT_EQ(running.tier, "namespace");
  EXPECT_EQ(running.socket, sp.socket_path());
  EXPECT_EQ(running.supervisor_pid, sp.pid());
  EXPECT_TRUE(testing::process_running(running.boundary_pid));

  wire::ExecRequest req;
  req.argv = spec.command;
  ExecResult r = exec_on(sp, "run", req);
  EXPECT_TRUE(r.handshake_ok);
  EXPECT_EQ(r.out, "hi\n");
  ASSERT_TRUE(r.exit.has_value()) << r.ended;
  EXPECT_EQ(r.exit->exit_code, 7);

  EXPECT_EQ(sp.wait_exit(), 0);
  SandboxState st = sp.state();
  EXPECT_EQ(st.status, SandboxStatus::kExited);
  EXPECT_EQ(st.exit_code, std::optional<int>(7));
  EXPECT_FALSE(st.finished_at.empty());
  sp.expect_nothing_left();
}

TEST(SupervisorLifecycle, ExecGetsTheDefaultEnvironment) {
  HULL_REQUIRE_ROOTFS();
  SandboxSpec spec;
  spec.command = {"sleep", "1000"};
  spec.env = {"FROM_SPEC=1"};
  SupervisorProcess sp(spec, agent_bin());
  ASSERT_EQ(sp.start(), "ok");
  wire::ExecRequest req;
  req.argv = {"sh", "-c", "echo $PATH; echo $HOME; echo $FROM_SPEC"};
  ExecResult r = exec_on(sp, "client", req);
  ASSERT_TRUE(r.exit.has_value()) << r.ended;
  EXPECT_EQ(r.out, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n/root\n1\n");
  // A client's exec is not the main command: the sandbox keeps running.
  EXPECT_EQ(sp.state().status, SandboxStatus::kRunning);
  sp.terminate();
  EXPECT_EQ(sp.wait_exit(), 0);
  EXPECT_EQ(sp.state().status, SandboxStatus::kExited);
  sp.expect_nothing_left();
}

TEST(SupervisorLifecycle, DetachedMainCommandWritesMainLogAndRecordsItsExit) {
  HULL_REQUIRE_ROOTFS();
  SandboxSpec spec;
  spec.command = {"sh", "-c", "echo out; echo err >&2; exit 3"};
  spec.detach = true;
  SupervisorProcess sp(spec, agent_bin());
  ASSERT_EQ(sp.start(), "ok");
  EXPECT_EQ(sp.wait_exit(), 0);
  SandboxState st = sp.state();
  EXPECT_EQ(st.status, SandboxStatus::kExited);
  EXPECT_EQ(st.exit_code, std::optional<int>(3));
  std::string log = testing::read_text(sp.dir() + "/main.log");
  EXPECT_NE(log.find("out\n"), std::string::npos) << log;
  EXPECT_NE(log.find("err\n"), std::string::npos) << log;
  sp.expect_nothing_left();
}

TEST(SupervisorLifecycle, MissingMainCommandExitsWith127) {
  HULL_REQUIRE_ROOTFS();
  SandboxSpec spec;
  spec.command = {"/no/such/program"};
  spec.detach = true;
  SupervisorProcess sp(spec, agent_bin());
  ASSERT_EQ(sp.start(), "ok");
  EXPECT_EQ(sp.wait_exit(), 0);
  EXPECT_EQ(sp.state().exit_code, std::optional<int>(127));
}

TEST(SupervisorLifecycle, ShutdownMessageFromAClientStopsTheSandbox) {
  HULL_REQUIRE_ROOTFS();
  SandboxSpec spec;
  spec.command = {"sleep", "1000"};
  SupervisorProcess sp(spec, agent_bin());
  ASSERT_EQ(sp.start(), "ok");
  asio::io_context io;
  wire::Channel ch(io.get_executor(), testing::connect_unix(sp.socket_path()),
                   wire::Channel::Side::kInitiator);
  bool sent = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto h = co_await ch.handshake(wire::Hello{wire::kProtocolVersion, "client", "t"});
        if (!h) co_return;
        asio::co_spawn(io, ch.run(), asio::detached);
        sent = (co_await ch.send_control(wire::Shutdown{})).ok();
        // The supervisor closing our connection is the acknowledgement.
        (void)co_await ch.receive_control();
      },
      [&](std::exception_ptr) { io.stop(); });
  io.run_for(30s);
  EXPECT_TRUE(sent);
  EXPECT_EQ(sp.wait_exit(), 0);
  SandboxState st = sp.state();
  EXPECT_EQ(st.status, SandboxStatus::kExited);
  EXPECT_FALSE(st.exit_code.has_value());
  sp.expect_nothing_left();
}

TEST(SupervisorLifecycle, RelayOfAGigabyteKeepsSupervisorMemoryBounded) {
  HULL_REQUIRE_ROOTFS();
  SandboxSpec spec;
  spec.command = {"sleep", "1000"};
  SupervisorProcess sp(spec, agent_bin());
  ASSERT_EQ(sp.start(), "ok");
  wire::ExecRequest req;
  req.argv = {"sh", "-c", "yes | head -c 1073741824"};
  auto t0 = std::chrono::steady_clock::now();
  ExecResult r = exec_on(sp, "client", req, 300s, 16);
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(r.exit.has_value()) << r.ended;
  EXPECT_EQ(r.exit->exit_code, 0);
  EXPECT_EQ(r.out_bytes, 1ull << 30);
  long rss = testing::peak_rss_kib(sp.pid());
  std::printf("1 GiB through the supervisor in %.1f s; supervisor peak RSS %ld KiB\n", secs, rss);
  EXPECT_GT(rss, 0);
  EXPECT_LT(rss, 64 * 1024);
  sp.terminate();
  EXPECT_EQ(sp.wait_exit(), 0);
  sp.expect_nothing_left();
}

TEST(SupervisorLifecycle, DeadSupervisorIsObservedAndReaped) {
  HULL_REQUIRE_ROOTFS();
  SandboxSpec spec;
  spec.command = {"sleep", "1000"};
  SupervisorProcess sp(spec, agent_bin());
  ASSERT_EQ(sp.start(), "ok");
  auto live = observed_state(sp.dir());
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->status, SandboxStatus::kRunning);  // our own child counts as alive

  ::kill(sp.pid(), SIGKILL);
  EXPECT_EQ(sp.wait_exit(), 128 + SIGKILL);
  auto seen = observed_state(sp.dir());
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(seen->status, SandboxStatus::kFailed);
  EXPECT_EQ(seen->error, "supervisor died");
  EXPECT_EQ(sp.state().status, SandboxStatus::kRunning) << "observing must not write";

  auto reaped = reap_if_dead(sp.dir());
  EXPECT_TRUE(reaped.ok()) << reaped.error().message();
  SandboxState st = sp.state();
  EXPECT_EQ(st.status, SandboxStatus::kFailed);
  EXPECT_EQ(st.error, "supervisor died");
  sp.expect_nothing_left();
}

}  // namespace
}  // namespace hull::supervisor
