#include "agent/agent.h"

#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <cstdio>
#include <exception>

#include "agent/exec_session.h"
#include "agent/file_ops.h"

namespace hull::agent {
namespace {

using Clock = Wakeup::Clock;
constexpr auto kKillWait = std::chrono::seconds(2);     // after SIGKILL, for the reaper
constexpr auto kReportWait = std::chrono::seconds(1);   // for sessions to send ExecExit
constexpr auto kFlushWait = std::chrono::seconds(2);    // for the channel to flush and close
constexpr std::chrono::milliseconds kSignalGrace{2000};  // SIGTERM to the agent itself

// A coroutine that escapes with an exception is a bug, but one request must
// not take the whole sandbox down with it: log and carry on.
auto log_exception(const char* what) {
  return [what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log_line(std::string(what) + ": " + ex.what());
    } catch (...) {
      log_line(std::string(what) + ": unknown exception");
    }
  };
}

wire::Ready describe_system() {
  wire::Ready r;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) r.hostname = host;
  struct utsname u {};
  if (::uname(&u) == 0) r.kernel = u.release;
  return r;
}

}  // namespace

void log_line(const std::string& msg) { std::fprintf(stderr, "hull-agent: %s\n", msg.c_str()); }

Agent::Agent(const asio::any_io_executor& ex, UniqueFd channel_fd, bool pid1,
             std::vector<wire::Event> startup_events)
    : ex_(ex),
      channel_(ex, std::move(channel_fd), wire::Channel::Side::kResponder),
      reaper_(ex),
      state_(ex, reaper_, channel_, pid1),
      egress_(state_),
      term_(ex, SIGTERM, SIGINT),
      startup_events_(std::move(startup_events)),
      started_(std::chrono::steady_clock::now()),
      channel_ended_wakeup_(ex),
      exit_wakeup_(ex) {
  reaper_.start();  // before any fork, so no exit status can slip by
}

asio::awaitable<int> Agent::run() {
  co_spawn(ex_, watch_signals(), log_exception("signals"));
  auto hello = co_await channel_.handshake(
      wire::Hello{wire::kProtocolVersion, "agent", std::string("hull-agent ") + HULL_VERSION});
  if (!hello) {
    log_line("handshake: " + hello.error().message());
    co_return 1;
  }
  co_spawn(ex_, read_channel(), log_exception("channel"));
  if ((co_await channel_.send_control(describe_system())).ok()) {
    for (auto& e : startup_events_) (void)co_await channel_.send_control(e);
    co_spawn(ex_, serve_control(), log_exception("control"));
    co_spawn(ex_, accept_streams(), log_exception("accept"));
  }
  while (!exit_code_) co_await exit_wakeup_.wait();
  co_return *exit_code_;
}

asio::awaitable<void> Agent::read_channel() {
  Status s = co_await channel_.run();
  channel_ended_ = true;
  channel_ended_wakeup_.notify();
  if (state_.shutting_down) co_return;
  // The host is gone (or broke the protocol): nobody can use the processes
  // any more, so they go at once.
  if (!s.ok()) log_line("channel: " + s.error().message());
  co_await shutdown(std::chrono::milliseconds(0), s.ok() ? 0 : 1);
}

asio::awaitable<void> Agent::serve_control() {
  for (;;) {
    auto msg = co_await channel_.receive_control();
    if (!msg) co_return;
    if (std::get_if<wire::Health>(&*msg)) {
      wire::HealthReply r;
      r.processes = static_cast<uint32_t>(reaper_.live());
      r.uptime_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::steady_clock::now() - started_)
                                              .count());
      (void)co_await channel_.send_control(r);
    } else if (auto* s = std::get_if<wire::Shutdown>(&*msg)) {
      co_spawn(ex_, shutdown(std::chrono::milliseconds(s->grace_ms), 0), log_exception("shutdown"));
    } else {
      // Only the host's control messages belong here; say so, stay up.
      (void)co_await channel_.send_control(
          wire::Event{"protocol", std::string("unexpected control message: ") + wire::message_name(*msg)});
    }
  }
}

asio::awaitable<void> Agent::accept_streams() {
  for (;;) {
    auto acc = co_await channel_.accept();
    if (!acc) co_return;
    auto& stream = acc->stream;
    if (state_.shutting_down) {
      stream->reset("agent is shutting down");
    } else if (auto* exec = std::get_if<wire::ExecRequest>(&acc->request)) {
      co_spawn(ex_, serve_exec(state_, stream, std::move(*exec)), log_exception("exec"));
    } else if (auto* file = std::get_if<wire::FileRequest>(&acc->request)) {
      co_spawn(ex_, serve_file(state_, stream, std::move(*file)), log_exception("file"));
    } else if (std::holds_alternative<wire::EgressAccept>(acc->request)) {
      egress_.park(stream);
    } else {
      stream->reset(std::string("unsupported request: ") + wire::message_name(acc->request));
    }
  }
}

asio::awaitable<void> Agent::watch_signals() {
  auto [ec, signo] = co_await term_.async_wait(asio::as_tuple(asio::use_awaitable));
  if (ec) co_return;
  log_line(std::string("got ") + (signo == SIGTERM ? "SIGTERM" : "SIGINT") + ": shutting down");
  if (channel_.is_open())
    (void)co_await channel_.send_control(wire::Event{"signal", "agent received a termination signal"});
  co_await shutdown(kSignalGrace, 0);
}

void Agent::kill_all(int signo) {
  for (pid_t g : state_.groups) ::kill(-g, signo);
  // As PID 1, kill(-1) reaches every process in the namespace but us,
  // including ones that left their group. Outside a pid namespace it would
  // hit every process of this user, so never there.
  if (state_.pid1) ::kill(-1, signo);
}

asio::awaitable<void> Agent::shutdown(std::chrono::milliseconds grace, int code) {
  if (state_.shutting_down) co_return;
  state_.shutting_down = true;
  egress_.close();
  if (grace.count() > 0) {
    kill_all(SIGTERM);
    // The grace timer races the reaper: whichever comes first.
    if (!co_await reaper_.wait_no_children(Clock::now() + grace)) kill_all(SIGKILL);
  } else {
    kill_all(SIGKILL);
  }
  if (!co_await reaper_.wait_no_children(Clock::now() + kKillWait))
    log_line("shutdown: some processes did not go away after SIGKILL");
  // Exec sessions need their output EOF and exit status to send ExecExit.
  const auto report_deadline = Clock::now() + kReportWait;
  while (!state_.groups.empty() && co_await state_.groups_changed.wait_until(report_deadline)) {
  }
  channel_.close("agent shutting down");
  const auto flush_deadline = Clock::now() + kFlushWait;
  while (!channel_ended_ && co_await channel_ended_wakeup_.wait_until(flush_deadline)) {
  }
  exit_code_ = code;
  exit_wakeup_.notify();
}

}  // namespace hull::agent
