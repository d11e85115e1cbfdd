// The sandbox's life: boot → handshake → Ready → serve → tear down. The
// listening socket and clients live in control_socket.cc, the byte relay in
// relay.cc, the detached main command in main_command.cc.
#include "supervisor/supervisor.h"
#include "supervisor/egress_bridge.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <filesystem>

#include "base/log.h"
#include "base/paths.h"
#include "base/sys.h"
#include "supervisor/supervisor_core.h"

namespace hull::supervisor {

namespace {

using asio::as_tuple;
using asio::use_awaitable;
using namespace std::chrono_literals;

// How long the agent may take from boot to Ready. A microvm boots a kernel
// (and may run under TCG), so it gets longer.
std::chrono::milliseconds boot_timeout(backend::BackendKind k) {
  switch (k) {
    case backend::BackendKind::kNamespace: return 30s;
    case backend::BackendKind::kMicrovm: return 120s;
  }
  return 30s;
}

// Grace the agent gets to stop its processes, and our extra wait on top
// before destroy() kills the boundary regardless.
constexpr uint32_t kShutdownGraceMs = 2000;
constexpr auto kShutdownSlack = 3000ms;
// Informational agent events are logged up to this count, then only counted
// (a chatty or hostile agent must not fill the disk through our log).
constexpr uint64_t kMaxLoggedEvents = 200;
constexpr size_t kMaxQueuedAgentControl = 256;

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

std::string find_agent() { return paths::sibling_program("hull-agent", "agent", "HULL_AGENT"); }

}  // namespace

// ---- Event -----------------------------------------------------------------

void Event::notify() {
  set_ = true;
  for (auto* t : waiters_) t->cancel();
}

asio::awaitable<bool> Event::wait(std::chrono::milliseconds timeout) {
  if (set_) co_return true;
  asio::steady_timer t(ex_, timeout);
  waiters_.insert(&t);
  co_await t.async_wait(as_tuple(use_awaitable));
  waiters_.erase(&t);
  co_return set_;
}

// ---- Supervisor ------------------------------------------------------------

Supervisor::Supervisor(asio::io_context& io, std::string dir, SandboxSpec spec, UniqueFd ready_fd)
    : io_(io),
      dir_(std::move(dir)),
      spec_(std::move(spec)),
      ready_fd_(std::move(ready_fd)),
      agent_run_done_(io.get_executor()),
      boundary_exited_(io.get_executor()),
      stop_requested_(io.get_executor()) {
  state_.supervisor_pid = ::getpid();
  state_.started_at = now_rfc3339();
}

Supervisor::~Supervisor() = default;

void Supervisor::write_state_logged() {
  if (auto st = write_state(dir_, state_); !st) log::error("write state: {}", st.error().message());
}

void Supervisor::report_ready(const std::string& line) {
  if (!ready_fd_) return;
  (void)sys::write_all(ready_fd_.get(), line);
  ready_fd_.reset();
}

void Supervisor::stop(Outcome o) {
  if (outcome_) return;
  if (o.failed) {
    log::error("stopping sandbox: {}", o.error);
  } else {
    log::info("stopping sandbox{}{}", o.error.empty() ? "" : ": ", o.error);
  }
  outcome_ = std::move(o);
  stop_requested_.notify();
}

void Supervisor::agent_violation(const std::string& what) {
  stop(Outcome{true, "agent misbehaved: " + one_line(what), std::nullopt});
}

void Supervisor::main_command_ended(std::optional<int> exit_code, const std::string& note) {
  if (exit_code) log::info("main command ended with status {}", *exit_code);
  stop(Outcome{false, note, exit_code});
}

void Supervisor::set_service_state(size_t index, const ServiceState& s) {
  if (index >= state_.services.size()) return;
  state_.services[index] = s;
  write_state_logged();
}

void Supervisor::set_health(const std::string& status, uint32_t failures, const std::string& output) {
  if (status != state_.health) log::info("health: {}", status);
  state_.health = status;
  state_.health_failures = failures;
  state_.health_output = output;
  write_state_logged();
}

bool Supervisor::claim_main() { return !std::exchange(main_claimed_, true); }

void Supervisor::forward_health(const std::weak_ptr<ClientConn>& from) {
  health_waiters_.push_back(from);
  asio::co_spawn(executor(), agent_->send_control(wire::Health{}), asio::detached);
}

std::string Supervisor::with_explanation(const std::string& what) const {
  std::string why = instance_ ? instance_->exit_explanation() : std::string();
  return why.empty() ? what : what + ": " + why;
}

std::string Supervisor::agent_failure_reason() const {
  if (!boot_abort_.empty()) return boot_abort_;
  const bool violated = agent_run_result_ && !agent_run_result_->ok() &&
                        !wire::is_transport_error(agent_run_result_->error());
  if (violated) return "agent misbehaved: " + agent_run_result_->error().message();
  // A dead agent breaks the channel too (EOF, EPIPE); say it died rather
  // than blame the bytes it did not send.
  if (boundary_exited_.is_set()) return with_explanation("sandbox died during boot (its agent exited)");
  if (agent_run_result_ && !agent_run_result_->ok()) {
    return "channel to the agent failed: " + agent_run_result_->error().message();
  }
  if (agent_ && !agent_->failure().empty()) return "agent misbehaved: " + agent_->failure();
  return "agent closed the channel before it was ready";
}

asio::awaitable<int> Supervisor::run() {
  asio::co_spawn(executor(), watch_signals(), asio::detached);
  if (auto st = co_await start(); !st) co_return fail_start(st.error());

  state_.status = SandboxStatus::kRunning;
  for (const auto& sv : spec_.services) {
    state_.services.emplace_back();
    state_.services.back().name = sv.name;
  }
  if (spec_.healthcheck) state_.health = "starting";
  if (spec_.network.enabled) {
    egress::EgressConfig ec;
    ec.sandbox = spec_.name;
    ec.preset = spec_.network.preset;
    ec.allow = spec_.network.allow;
    ec.deny = spec_.network.deny;
    ec.package_hosts = spec_.network.package_hosts;
    egress_ = std::make_unique<EgressBridge>(*this, std::move(ec));
    if (auto st = co_await egress_->start(); !st) co_return fail_start(st.error());
  }
  write_state_logged();
  log::info("running (tier {}, boundary pid {}, socket {})", state_.tier, state_.boundary_pid,
            socket_path_);
  report_ready("ok\n");

  asio::co_spawn(executor(), agent_control_loop(), asio::detached);
  asio::co_spawn(executor(), accept_clients(), asio::detached);
  asio::co_spawn(executor(), watchdog(), asio::detached);
  // Services first: their streams open before any main command's.
  for (size_t i = 0; i < spec_.services.size(); ++i) asio::co_spawn(executor(), run_service(*this, i), asio::detached);
  if (spec_.healthcheck) asio::co_spawn(executor(), run_healthcheck(*this), asio::detached);
  if (spec_.detach) asio::co_spawn(executor(), run_detached_main(*this), asio::detached);

  co_await stop_requested_.wait();
  co_return co_await teardown();
}

Status Supervisor::boot_backend() {
  state_.status = SandboxStatus::kBooting;
  write_state_logged();
  if (auto st = backend::reap_leftovers(dir_); !st) {
    log::warn("reap leftovers: {}", st.error().message());
  }

  HULL_ASSIGN(auto be, backend::make_backend(spec_.backend));
  backend::BootSpec boot;
  boot.name = spec_.name;
  boot.rootfs = spec_.rootfs;
  boot.workspace = spec_.workspace;
  boot.workspace_ro = spec_.workspace_ro;
  boot.user_uid = spec_.uid;
  boot.user_gid = spec_.gid;
  boot.weaken_for_package_install = spec_.weaken_for_package_install;
  boot.state_dir = dir_;
  boot.agent_path = find_agent();
  boot.limits = spec_.limits;
  log::info("booting {} backend (rootfs {}, agent {})", backend::backend_name(spec_.backend),
            boot.rootfs, boot.agent_path);
  HULL_ASSIGN(backend::Booted booted, be->boot(boot));
  instance_ = std::move(booted.instance);
  state_.tier = backend::tier_name(instance_->tier());
  state_.boundary_pid = instance_->host_pid();
  state_.limits_report = instance_->report();
  write_state_logged();

  // The agent has no reason to leave many control messages unread by us (we
  // read them as they come), so a burst beyond this is a flood: fail fast.
  wire::ChannelLimits limits;
  limits.max_queued_messages = kMaxQueuedAgentControl;
  // Nothing in the protocol lets the agent start a stream: one it opens is
  // refused as a violation before anything of it is buffered.
  limits.peer_may_open = false;
  agent_ = std::make_unique<wire::Channel>(executor(), std::move(booted.channel),
                                           wire::Channel::Side::kInitiator, limits);
  return ok_status();
}

asio::awaitable<Status> Supervisor::start() {
  if (auto st = boot_backend(); !st) co_return st;
  asio::co_spawn(executor(), watch_boundary(), asio::detached);
  for (int fd : instance_->output_fds()) asio::co_spawn(executor(), pump_output(fd), asio::detached);
  if (auto st = co_await wait_for_ready(); !st) co_return st;
  co_return listen();
}

asio::awaitable<Status> Supervisor::wait_for_ready() {
  // Whatever cuts the boot short (timeout, boundary death, signal) closes the
  // agent channel, which wakes the handshake/receive below with an error.
  asio::steady_timer deadline(executor(), boot_timeout(spec_.backend));
  deadline.async_wait([this](boost::system::error_code ec) {
    if (ec || !agent_ || !agent_->is_open()) return;
    boot_abort_ = "agent not ready within the boot timeout";
    agent_->close(boot_abort_);
  });

  auto hello = co_await agent_->handshake(
      wire::Hello{wire::kProtocolVersion, "supervisor", std::string("hull-supervisor ") + HULL_VERSION});
  if (!hello) {
    // The channel breaks a moment before the exit is visible on the pidfd.
    if (wire::is_transport_error(hello.error())) co_await boundary_exited_.wait(kExitSettle);
    // A death or an abort is the story; the broken channel is only its echo.
    if (boundary_exited_.is_set() || !boot_abort_.empty()) co_return make_error(agent_failure_reason());
    co_return make_error("agent handshake",
                         agent_failure_reason() + " (" + hello.error().message() + ")");
  }
  if (hello->role != "agent") {
    co_return make_error("agent handshake", "agent misbehaved: peer role is \"" +
                                                one_line(hello->role) + "\", not \"agent\"");
  }
  asio::co_spawn(executor(), agent_->run(), [this](std::exception_ptr, Status st) {
    agent_run_result_ = st;
    agent_run_done_.notify();
    if (stopping() || state_.status != SandboxStatus::kRunning) return;
    asio::co_spawn(executor(), judge_channel_end(st), asio::detached);
  });

  auto msg = co_await agent_->receive_control();
  if (!msg) {
    // The read loop has the real reason; it ends right after the channel does.
    co_await agent_run_done_.wait(1s);
    if (!agent_run_result_ || agent_run_result_->ok() || wire::is_transport_error(agent_run_result_->error()))
      co_await boundary_exited_.wait(kExitSettle);
    co_return make_error("wait for agent ready", agent_failure_reason());
  }
  if (!std::holds_alternative<wire::Ready>(*msg)) {
    co_return make_error("wait for agent ready", std::string("agent misbehaved: sent ") +
                                                     wire::message_name(*msg) + " before Ready");
  }
  deadline.cancel();
  const auto& ready = std::get<wire::Ready>(*msg);
  log::info("agent ready (hostname {}, kernel {}, {})", one_line(ready.hostname),
            one_line(ready.kernel), one_line(hello->software));
  co_return ok_status();
}

asio::awaitable<void> Supervisor::judge_channel_end(Status st) {
  // A channel that ends because the agent died is a death, not a violation;
  // the pidfd says which a moment after the channel does. What the agent
  // sent wrong is a violation whatever happens to it next.
  if (!st && !wire::is_transport_error(st.error())) {
    agent_violation(st.error().message());
    co_return;
  }
  co_await boundary_exited_.wait(kExitSettle);
  if (stopping()) co_return;
  if (boundary_exited_.is_set()) {
    stop(Outcome{true, with_explanation("sandbox died (its agent exited)"), std::nullopt});
  } else if (!st) {
    agent_violation(st.error().message());
  } else {
    stop(Outcome{true, "sandbox died (agent closed its channel)", std::nullopt});
  }
}

Status Supervisor::listen() {
  HULL_ASSIGN(std::string rt, paths::prepare_runtime_dir());
  socket_path_ = rt + "/" + spec_.name + ".sock";
  if (socket_path_.size() >= sizeof(sockaddr_un::sun_path)) {
    return make_error("listen " + socket_path_, "path too long for a unix socket (set HULL_HOME shorter)");
  }
  ::unlink(socket_path_.c_str());  // stale socket of a dead supervisor of this name
  boost::system::error_code ec;
  acceptor_.emplace(io_);
  acceptor_->open(asio::local::stream_protocol(), ec);
  if (ec) return sys_error("socket " + socket_path_, ec.value());
  // umask makes the socket 0600 from birth: no window where others can connect.
  mode_t old = ::umask(0177);
  acceptor_->bind(asio::local::stream_protocol::endpoint(socket_path_), ec);
  ::umask(old);
  if (ec) return sys_error("bind " + socket_path_, ec.value());
  ::chmod(socket_path_.c_str(), 0600);
  acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return sys_error("listen " + socket_path_, ec.value());
  state_.socket = socket_path_;
  return ok_status();
}

asio::awaitable<void> Supervisor::accept_clients() {
  uint64_t next_id = 1;
  while (acceptor_ && acceptor_->is_open() && !stopping()) {
    auto [ec, sock] = co_await acceptor_->async_accept(as_tuple(use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping()) break;
      log::warn("accept on {}: {}", socket_path_, ec.message());
      continue;  // e.g. EMFILE: keep serving the clients we have
    }
    UniqueFd fd(sock.release(ec));
    if (!fd) continue;
    asio::co_spawn(executor(), serve_client(*this, std::move(fd), next_id++), asio::detached);
  }
}

asio::awaitable<void> Supervisor::agent_control_loop() {
  for (;;) {
    auto msg = co_await agent_->receive_control();
    if (!msg) co_return;  // channel gone; run()'s completion says why
    if (auto* ev = std::get_if<wire::Event>(&*msg)) {
      if (++events_logged_ <= kMaxLoggedEvents) {
        log::info("agent event {}: {}", one_line(ev->kind), one_line(ev->detail));
      } else if (events_logged_ % 10000 == 0) {
        log::warn("agent sent {} events (not logging each)", events_logged_);
      }
    } else if (auto* hr = std::get_if<wire::HealthReply>(&*msg)) {
      if (health_waiters_.empty()) {
        agent_violation("unsolicited HealthReply");
        co_return;
      }
      auto to = health_waiters_.front();
      health_waiters_.pop_front();
      if (to) {
        deliver_health(*to, *hr);
      } else {
        watchdog_ping_sent_.reset();
      }
    } else {
      agent_violation(std::string("unexpected ") + wire::message_name(*msg) +
                      " on the control stream");
      co_return;
    }
  }
}

asio::awaitable<void> Supervisor::pump_output(int fd) {
  // The Instance owns fd; Asio closes what it is given, so give it a dup.
  int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (dup < 0) {
    log::error("dup output fd: {}", std::strerror(errno));
    co_return;
  }
  asio::posix::stream_descriptor sd(executor(), dup);
  for (;;) {
    auto [ec] = co_await sd.async_wait(asio::posix::stream_descriptor::wait_read, as_tuple(use_awaitable));
    if (ec || !instance_->drain_output(fd)) co_return;
  }
}

asio::awaitable<void> Supervisor::watch_boundary() {
  // The Instance owns exit_fd; Asio closes what it is given, so give it a dup.
  int fd = ::fcntl(instance_->exit_fd(), F_DUPFD_CLOEXEC, 3);
  if (fd < 0) {
    log::error("dup boundary exit fd: {}", std::strerror(errno));
    co_return;
  }
  asio::posix::stream_descriptor sd(executor(), fd);
  co_await sd.async_wait(asio::posix::stream_descriptor::wait_read, as_tuple(use_awaitable));
  boundary_exited_.notify();
  log::info("boundary process {} exited", state_.boundary_pid);
  if (state_.status == SandboxStatus::kBooting) {
    if (boot_abort_.empty()) boot_abort_ = with_explanation("sandbox died during boot");
    if (agent_) agent_->close(boot_abort_);
  } else if (!stopping()) {
    stop(Outcome{true, with_explanation("sandbox died"), std::nullopt});
  }
}

asio::awaitable<void> Supervisor::watch_signals() {
  asio::signal_set signals(executor(), SIGTERM, SIGINT, SIGHUP);
  auto [ec, signo] = co_await signals.async_wait(as_tuple(use_awaitable));
  if (ec) co_return;
  log::info("received signal {}", signo);
  if (state_.status == SandboxStatus::kBooting) {
    boot_abort_ = "stopped by signal " + std::to_string(signo) + " during boot";
    if (agent_) agent_->close(boot_abort_);
    co_return;
  }
  stop(Outcome{false, "", std::nullopt});
}

int Supervisor::fail_start(const Error& e) {
  std::string msg = one_line(e.message());
  log::error("start failed: {}", msg);
  if (agent_) agent_->close(msg);
  if (instance_) {
    if (auto st = instance_->destroy(); !st) log::error("destroy: {}", st.error().message());
  }
  if (acceptor_) {
    boost::system::error_code ec;
    acceptor_->close(ec);
  }
  if (!socket_path_.empty()) ::unlink(socket_path_.c_str());
  state_.status = SandboxStatus::kFailed;
  state_.error = msg;
  state_.socket.clear();
  state_.finished_at = now_rfc3339();
  write_state_logged();
  report_ready("error: " + msg + "\n");
  return 1;
}

asio::awaitable<int> Supervisor::teardown() {
  Outcome o = *outcome_;
  state_.status = SandboxStatus::kStopping;
  write_state_logged();
  boost::system::error_code ec;
  if (acceptor_) acceptor_->close(ec);
  ::unlink(socket_path_.c_str());
  if (egress_) egress_->stop();

  if (!o.failed && agent_->is_open() && !boundary_exited_.is_set()) {
    // Not awaited inline: a hostile agent that stops reading must not be
    // able to stall us; the bounded wait below covers both cases.
    asio::co_spawn(executor(), agent_->send_control(wire::Shutdown{kShutdownGraceMs}),
                   asio::detached);
    auto limit = std::chrono::milliseconds(kShutdownGraceMs) + kShutdownSlack;
    if (!co_await boundary_exited_.wait(limit)) {
      log::warn("boundary still up {} ms after Shutdown; killing it", limit.count());
    }
  }

  std::string why = o.failed ? o.error : "sandbox stopped";
  auto relays = relays_;
  for (const auto& r : relays) abort_relay(*r, why);
  agent_->close(why);
  if (auto st = instance_->destroy(); !st) log::error("destroy: {}", st.error().message());
  auto clients = clients_;
  for (const auto& c : clients) close_client(*c, why);

  state_.status = o.failed ? SandboxStatus::kFailed : SandboxStatus::kExited;
  state_.exit_code = o.exit_code;
  state_.error = o.error;
  state_.socket.clear();
  state_.finished_at = now_rfc3339();
  write_state_logged();
  log::info("sandbox {} ({})", status_name(state_.status), o.error.empty() ? "clean" : o.error);
  co_return o.failed ? 1 : 0;
}

// ---- entry point -----------------------------------------------------------

int run_supervisor(const std::string& sandbox_dir, UniqueFd ready_fd) {
  // A client vanishing mid-write must be an error code, not a dead supervisor.
  ::signal(SIGPIPE, SIG_IGN);
  std::string name = std::filesystem::path(sandbox_dir).filename().string();
  try {
    log::init("supervisor", "info");
    log::to_file(sandbox_dir + "/supervisor.log");
    log::set_prefix(name);
  } catch (const std::exception& e) {
    // Logging is for operators; failing to set it up must not stop the sandbox.
  }

  auto spec = read_spec(sandbox_dir);
  if (!spec) {
    std::string msg = one_line(spec.error().message());
    log::error("{}", msg);
    SandboxState st;
    st.status = SandboxStatus::kFailed;
    st.supervisor_pid = ::getpid();
    st.error = msg;
    st.finished_at = now_rfc3339();
    (void)write_state(sandbox_dir, st);
    if (ready_fd) (void)sys::write_all(ready_fd.get(), "error: " + msg + "\n");
    return 1;
  }
  log::info("supervisor {} starting for sandbox {}", ::getpid(), spec->name);

  asio::io_context io;
  int rc = 1;
  {
    Supervisor sup(io, sandbox_dir, std::move(spec).value(), std::move(ready_fd));
    asio::co_spawn(io, sup.run(), [&](std::exception_ptr e, int code) {
      rc = code;
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log::error("supervisor crashed: {}", ex.what());
        }
        rc = 1;
      }
      io.stop();
    });
    io.run();
  }  // ~Supervisor: a still-live Instance is destroyed (killed) here.
  if (auto l = spdlog::default_logger()) l->flush();
  return rc;
}

}  // namespace hull::supervisor
