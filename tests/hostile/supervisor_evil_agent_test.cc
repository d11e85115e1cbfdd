// A hostile agent (tests/bin/evil_agent.cc, run as the sandbox's PID 1) must
// get its sandbox killed with a clear reason — while the supervisor itself
// stays in control, exits, and leaves nothing behind. Credit starvation must
// not cost the supervisor memory or responsiveness.
#include <sys/inotify.h>

#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "../integration/supervisor_harness.h"

namespace hull::supervisor {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::SupervisorProcess;

SandboxSpec idle_spec() {
  SandboxSpec s;
  s.command = {"sleep", "1000"};
  return s;
}

// Boots a sandbox whose agent misbehaves in `mode` and expects the boot
// itself to fail with `reason` in the ready line and in state.json.
void expect_boot_fails(const std::string& mode, const std::string& reason) {
  SupervisorProcess sp(idle_spec(), testing::evil_agent());
  sp.write_workspace_file("evil-mode", mode);
  std::string ready = sp.start();
  EXPECT_EQ(ready.rfind("error: ", 0), 0u) << ready;
  EXPECT_NE(ready.find("agent misbehaved"), std::string::npos) << ready;
  EXPECT_NE(ready.find(reason), std::string::npos) << ready;
  EXPECT_EQ(ready.find('\n'), std::string::npos) << "one line only: " << ready;
  EXPECT_EQ(sp.wait_exit(), 1);
  SandboxState st = sp.state();
  EXPECT_EQ(st.status, SandboxStatus::kFailed);
  EXPECT_NE(st.error.find(reason), std::string::npos) << st.error;
  EXPECT_NE(st.boundary_pid, 0);
  sp.expect_nothing_left();
}

TEST(SupervisorHostileAgent, GarbageAfterHelloFailsTheBootWithTheReason) {
  HULL_REQUIRE_ROOTFS();
  expect_boot_fails("garbage", "invalid frame");
}

TEST(SupervisorHostileAgent, FourGibFrameHeaderFailsTheBootWithoutBufferingIt) {
  HULL_REQUIRE_ROOTFS();
  expect_boot_fails("huge-frame", "4294967295");
}

// For failures after Ready the boot may or may not have been reported before
// the violation is seen; either way the sandbox must end as failed.
void expect_sandbox_fails(SupervisorProcess& sp, const std::string& reason) {
  EXPECT_EQ(sp.wait_exit(), 1);
  SandboxState st = sp.state();
  EXPECT_EQ(st.status, SandboxStatus::kFailed);
  EXPECT_NE(st.error.find(reason), std::string::npos) << st.error;
  sp.expect_nothing_left();
  EXPECT_NE(testing::read_text(sp.dir() + "/supervisor.log").find(reason), std::string::npos);
}

TEST(SupervisorHostileAgent, ControlMessageFloodKillsTheSandbox) {
  HULL_REQUIRE_ROOTFS();
  SupervisorProcess sp(idle_spec(), testing::evil_agent());
  sp.write_workspace_file("evil-mode", "flood");
  std::string ready = sp.start();
  EXPECT_TRUE(ready == "ok" || ready.find("control messages") != std::string::npos) << ready;
  expect_sandbox_fails(sp, "control messages");
}

// The host starts every stream; an agent that opens one has broken the
// protocol (it used to be admitted, up to 256 of them, and buffered
// without being charged to the sandbox).
TEST(SupervisorHostileAgent, AStreamTheAgentOpensKillsTheSandbox) {
  HULL_REQUIRE_ROOTFS();
  SupervisorProcess sp(idle_spec(), testing::evil_agent());
  sp.write_workspace_file("evil-mode", "open-stream");
  std::string ready = sp.start();
  EXPECT_TRUE(ready == "ok" || ready.find("accepts no streams") != std::string::npos) << ready;
  expect_sandbox_fails(sp, "accepts no streams");
}

// A sandbox with network: the host parks egress streams with the agent. An
// agent that sends bytes on one before saying EgressConnected, or data on a
// fd the egress stream has no use for, has broken the protocol.
SandboxSpec networked_spec() {
  SandboxSpec s = idle_spec();
  s.network.enabled = true;
  s.network.preset = "locked";
  ::setenv("HULL_BIN", HULL_BIN, 1);  // the egress process is `hull __egress`
  return s;
}

TEST(SupervisorHostileAgent, BytesBeforeEgressConnectedKillTheSandbox) {
  HULL_REQUIRE_ROOTFS();
  SupervisorProcess sp(networked_spec(), testing::evil_agent());
  sp.write_workspace_file("evil-mode", "egress-no-hello");
  (void)sp.start();
  expect_sandbox_fails(sp, "instead of egress_connected");
}

TEST(SupervisorHostileAgent, EgressDataOnTheWrongFdKillsTheSandbox) {
  HULL_REQUIRE_ROOTFS();
  SupervisorProcess sp(networked_spec(), testing::evil_agent());
  sp.write_workspace_file("evil-mode", "egress-wrong-fd");
  (void)sp.start();
  expect_sandbox_fails(sp, "wrong fd");
}

TEST(SupervisorHostileAgent, AgentExitingUnderUsIsReportedAsDeath) {
  HULL_REQUIRE_ROOTFS();
  SupervisorProcess sp(idle_spec(), testing::evil_agent());
  sp.write_workspace_file("evil-mode", "exit");
  (void)sp.start();
  expect_sandbox_fails(sp, "died");
}

// A "client" connection that opens one exec stream and reads it until the
// stream ends; returns how it ended.
struct ExecOutcome {
  bool handshake_ok = false;
  bool got_exit = false;
  bool ended = false;  // reset or closed
  std::string reason;
};

// `consume`: grant credit back as output is read. A client that does not
// (a slow reader) pins the agent to the initial window, so an agent that
// sends more has broken the protocol however fast the host relays.
asio::awaitable<void> exec_and_read(wire::Channel& ch, ExecOutcome& out, bool consume) {
  auto h = co_await ch.handshake(wire::Hello{wire::kProtocolVersion, "client", "test"});
  out.handshake_ok = h.ok();
  if (!h) co_return;
  asio::co_spawn(co_await asio::this_coro::executor, ch.run(), asio::detached);
  wire::ExecRequest req;
  req.argv = {"cat"};
  auto s = co_await ch.open(req);
  if (!s) co_return;
  for (;;) {
    wire::Incoming in = co_await (*s)->receive();
    if (in.kind == wire::Incoming::Kind::kData && consume) (*s)->consume(in.data.size());
    if (in.kind == wire::Incoming::Kind::kMessage &&
        std::holds_alternative<wire::ExecExit>(in.message)) {
      out.got_exit = true;
      co_return;
    }
    if (in.kind == wire::Incoming::Kind::kReset || in.kind == wire::Incoming::Kind::kClosed) {
      out.ended = true;
      out.reason = in.reason;
      co_return;
    }
  }
}

void expect_exec_kills_sandbox(const std::string& mode, const std::string& reason, bool consume = true) {
  SupervisorProcess sp(idle_spec(), testing::evil_agent());
  sp.write_workspace_file("evil-mode", mode);
  ASSERT_EQ(sp.start(), "ok");
  asio::io_context io;
  wire::Channel ch(io.get_executor(), testing::connect_unix(sp.socket_path()),
                   wire::Channel::Side::kInitiator);
  ExecOutcome out;
  asio::co_spawn(io, exec_and_read(ch, out, consume), [&](std::exception_ptr) { io.stop(); });
  io.run_for(30s);
  EXPECT_TRUE(out.handshake_ok);
  EXPECT_FALSE(out.got_exit);
  EXPECT_TRUE(out.ended) << "the client's stream must end when the sandbox is killed";
  expect_sandbox_fails(sp, reason);
}

TEST(SupervisorHostileAgent, DataBeyondCreditKillsTheSandboxAndEndsClientStreams) {
  HULL_REQUIRE_ROOTFS();
  expect_exec_kills_sandbox("overrun", "credit", /*consume=*/false);
}

TEST(SupervisorHostileAgent, ReplyOfTheWrongKindKillsTheSandbox) {
  HULL_REQUIRE_ROOTFS();
  expect_exec_kills_sandbox("wrong-reply", "file_done is not valid on an exec stream");
}

// Waits (in the event loop) until `name` appears in `dir`, using inotify.
asio::awaitable<void> wait_for_file(const std::string& dir, const std::string& name, bool& seen) {
  int ifd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  ::inotify_add_watch(ifd, dir.c_str(), IN_CREATE | IN_MOVED_TO);
  asio::posix::stream_descriptor sd(co_await asio::this_coro::executor, ifd);
  while (!sys::exists(dir + "/" + name)) {
    auto [ec] = co_await sd.async_wait(asio::posix::stream_descriptor::wait_read,
                                       asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    char buf[4096];
    while (::read(ifd, buf, sizeof buf) > 0) {
    }
  }
  seen = true;
}

// The streams the supervisor opens on its own behalf (the image's services
// and health check, with no client attached) are held to the same rules.
TEST(SupervisorHostileAgent, AWrongReplyToAServiceKillsTheSandbox) {
  HULL_REQUIRE_ROOTFS();
  SandboxSpec spec = idle_spec();
  spec.services = {{"web", {"sleep", "1000"}, image::RestartPolicy::kAlways}};
  SupervisorProcess sp(spec, testing::evil_agent());
  sp.write_workspace_file("evil-mode", "wrong-reply");
  ASSERT_EQ(sp.start(), "ok");
  expect_sandbox_fails(sp, "service web stream: unexpected file_done");
}

// An agent that streams output and never ends a check (ignoring its
// timeout): the supervisor's own deadline fails the check, and the output it
// read costs no memory beyond the cap.
TEST(SupervisorHostileAgent, AHealthCheckTheAgentNeverEndsTurnsUnhealthy) {
  HULL_REQUIRE_ROOTFS();
  SandboxSpec spec = idle_spec();
  spec.healthcheck = image::HealthCheck{{"true"}, 50, 200, 1};
  SupervisorProcess sp(spec, testing::evil_agent());
  sp.write_workspace_file("evil-mode", "overrun");
  ASSERT_EQ(sp.start(), "ok");
  SandboxState st;
  for (int i = 0; i < 300 && st.health != "unhealthy"; ++i) {
    std::this_thread::sleep_for(100ms);
    st = sp.state();
  }
  EXPECT_EQ(st.health, "unhealthy");
  EXPECT_EQ(st.status, SandboxStatus::kRunning);
  EXPECT_NE(st.health_output.find("timed out after 2200 ms"), std::string::npos) << st.health_output;
  EXPECT_LE(st.health_output.size(), 1024u);
}

TEST(SupervisorHostileAgent, CreditStarvationLeavesSupervisorResponsiveAndBounded) {
  HULL_REQUIRE_ROOTFS();
  SupervisorProcess sp(idle_spec(), testing::evil_agent());
  sp.write_workspace_file("evil-mode", "starve");
  ASSERT_EQ(sp.start(), "ok");

  asio::io_context io;
  // Client 1 pushes 32 MiB of stdin at an agent that never grants credit.
  wire::Channel c1(io.get_executor(), testing::connect_unix(sp.socket_path()),
                   wire::Channel::Side::kInitiator);
  std::vector<std::byte> blob(32u << 20, std::byte{'x'});
  bool sent_all = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto h = co_await c1.handshake(wire::Hello{wire::kProtocolVersion, "client", "t"});
        if (!h) co_return;
        asio::co_spawn(io, c1.run(), asio::detached);
        wire::ExecRequest req;
        req.argv = {"cat"};
        auto s = co_await c1.open(req);
        if (!s) co_return;
        auto st = co_await (*s)->send_data(wire::StreamFd::kStdin, blob);
        sent_all = st.ok();
      },
      asio::detached);
  bool starved = false;
  asio::co_spawn(io, wait_for_file(sp.workspace(), "evil-starved", starved),
                 [&](std::exception_ptr) { io.stop(); });
  io.run_for(30s);
  ASSERT_TRUE(starved) << "the agent never received a full window of stdin";

  // While client 1 is stuck, a second client is served.
  io.restart();
  wire::Channel c2(io.get_executor(), testing::connect_unix(sp.socket_path()),
                   wire::Channel::Side::kInitiator);
  bool c2_ok = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto h = co_await c2.handshake(wire::Hello{wire::kProtocolVersion, "client", "t2"});
        c2_ok = h.ok() && h->role == "supervisor";
      },
      [&](std::exception_ptr) { io.stop(); });
  io.run_for(10s);
  EXPECT_TRUE(c2_ok);
  EXPECT_FALSE(sent_all) << "32 MiB cannot have gone through a starved stream";

  long rss = testing::peak_rss_kib(sp.pid());
  std::printf("supervisor peak RSS under credit starvation: %ld KiB\n", rss);
  EXPECT_GT(rss, 0);
  EXPECT_LT(rss, 64 * 1024);

  // SIGTERM: the agent ignores Shutdown; the bounded wait then kills it.
  sp.terminate();
  EXPECT_EQ(sp.wait_exit(), 0);
  EXPECT_EQ(sp.state().status, SandboxStatus::kExited);
  sp.expect_nothing_left();
}

}  // namespace
}  // namespace hull::supervisor
