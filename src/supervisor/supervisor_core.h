// Internal to the supervisor module: the one object that owns a sandbox's
// life inside `hull __supervise`, and the pieces the other .cc files share.
//
// Order of calls (all on one io_context thread, C++20 coroutines):
//   1. Supervisor sup(io, dir, spec, ready_fd);  co_spawn(sup.run())
//   2. run(): boot → agent handshake → Ready → listen → state running → "ok"
//   3. clients (control_socket.cc), relays (relay.cc), the detached main
//      command (main_command.cc) call stop()/agent_violation() when the
//      sandbox must end; the first reason wins.
//   4. run() tears down (agent Shutdown, bounded wait, destroy, state final)
//      and returns the process exit code.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>

#include "backend/backend.h"
#include "base/fd.h"
#include "supervisor/sandbox_record.h"
#include "wire/channel.h"

namespace hull::supervisor {

namespace asio = boost::asio;

// A one-shot notification several coroutines can wait for (with a timeout).
class Event {
 public:
  explicit Event(asio::any_io_executor ex) : ex_(std::move(ex)) {}
  void notify();
  bool is_set() const { return set_; }
  // True if notified before the timeout.
  asio::awaitable<bool> wait(std::chrono::milliseconds timeout = std::chrono::hours(24 * 365));

 private:
  asio::any_io_executor ex_;
  bool set_ = false;
  std::set<asio::steady_timer*> waiters_;
};

// How the sandbox ended; recorded once, by whoever noticed first.
struct Outcome {
  bool failed = false;
  std::string error;              // state.error ("" for a clean stop)
  std::optional<int> exit_code;   // of the main command
};

// What kind of stream a client opened; decides which agent replies are legal.
enum class StreamKind { kExec, kFile };

class ClientConn;
struct RelayPair;
class EgressBridge;

class Supervisor {
 public:
  Supervisor(asio::io_context& io, std::string dir, SandboxSpec spec, UniqueFd ready_fd);
  ~Supervisor();

  asio::awaitable<int> run();

  asio::any_io_executor executor() { return io_.get_executor(); }
  const SandboxSpec& spec() const { return spec_; }
  const std::string& dir() const { return dir_; }
  wire::Channel& agent() { return *agent_; }
  bool stopping() const { return outcome_.has_value(); }

  // Ask for the sandbox to end; the first call decides the outcome.
  void stop(Outcome o);
  // The agent broke the protocol: kill the sandbox, status failed.
  void agent_violation(const std::string& what);
  // The main command's stream ended (exit_code empty if it was aborted).
  void main_command_ended(std::optional<int> exit_code, const std::string& note);
  // True exactly once: the first exec stream of a "run" client is the main
  // command (attached mode only).
  bool claim_main();

  // Bookkeeping so a failing sandbox can reset every client stream with why.
  void add_relay(const std::shared_ptr<RelayPair>& r) { relays_.insert(r); }
  void remove_relay(const std::shared_ptr<RelayPair>& r) { relays_.erase(r); }
  void add_client(const std::shared_ptr<ClientConn>& c) { clients_.insert(c); }
  void remove_client(const std::shared_ptr<ClientConn>& c) { clients_.erase(c); }

  // Health requests are forwarded to the agent; replies go back in order.
  void forward_health(const std::weak_ptr<ClientConn>& from);

  // services.cc reports what it sees; each change rewrites state.json.
  void set_service_state(size_t index, const ServiceState& s);
  void set_health(const std::string& status, uint32_t failures, const std::string& output);

 private:
  Status boot_backend();
  asio::awaitable<Status> start();
  asio::awaitable<Status> wait_for_ready();
  Status listen();
  asio::awaitable<void> accept_clients();
  asio::awaitable<void> agent_control_loop();
  asio::awaitable<void> watch_boundary();
  // Copies one of the Instance's output fds into its capped log as it comes.
  asio::awaitable<void> pump_output(int fd);
  asio::awaitable<void> watch_signals();
  // watchdog.cc: while running, pings the agent and asks the backend for
  // trouble (a flooded console); stops a sandbox that hangs or misbehaves.
  asio::awaitable<void> watchdog();
  asio::awaitable<int> teardown();
  int fail_start(const Error& e);
  void write_state_logged();
  void report_ready(const std::string& line);
  std::string agent_failure_reason() const;
  // Decides, once the agent channel has ended, whether the sandbox died or
  // its agent broke the protocol.
  asio::awaitable<void> judge_channel_end(Status channel_result);
  // "sandbox died" + ": " + what the boundary left to explain it, if anything.
  std::string with_explanation(const std::string& what) const;
  // How long a broken channel waits for the boundary's exit to show.
  static constexpr std::chrono::milliseconds kExitSettle{1000};

  asio::io_context& io_;
  std::string dir_;
  SandboxSpec spec_;
  UniqueFd ready_fd_;
  SandboxState state_;

  std::unique_ptr<backend::Instance> instance_;
  std::unique_ptr<wire::Channel> agent_;
  std::optional<Status> agent_run_result_;  // set when agent_->run() returned
  Event agent_run_done_;
  Event boundary_exited_;
  std::string boot_abort_;  // why boot was cut short (timeout, boundary died)

  std::string socket_path_;
  std::optional<asio::local::stream_protocol::acceptor> acceptor_;

  std::optional<Outcome> outcome_;
  Event stop_requested_;
  bool main_claimed_ = false;
  // Who asked for each outstanding Health, in order; nullopt = the watchdog.
  std::deque<std::optional<std::weak_ptr<ClientConn>>> health_waiters_;
  // When the watchdog's outstanding Health was sent (none outstanding: empty).
  std::optional<std::chrono::steady_clock::time_point> watchdog_ping_sent_;
  std::set<std::shared_ptr<RelayPair>> relays_;
  std::set<std::shared_ptr<ClientConn>> clients_;
  uint64_t events_logged_ = 0;
  std::unique_ptr<EgressBridge> egress_;  // sandboxes with network only
};

// ---- control_socket.cc ------------------------------------------------------
// Serves one client connection until it disconnects or misbehaves.
asio::awaitable<void> serve_client(Supervisor& sup, UniqueFd fd, uint64_t id);
// Sends a HealthReply to a client that asked (no-op if it is gone).
void deliver_health(const std::weak_ptr<ClientConn>& to, const wire::HealthReply& reply);
// Closes a client's channel (shutdown, or the client misbehaved).
void close_client(ClientConn& c, const std::string& why);

// ---- request.cc -------------------------------------------------------------
// Checks a request a client opened a stream with and fills defaults (the
// default environment for exec). Error = refuse the stream, keep the client.
Result<wire::Message> prepare_request(const SandboxSpec& spec, const wire::Message& request);
// The default environment for an exec: PATH, HOME, TERM (tty), spec.env,
// then the request's own entries (a later key overrides an earlier one).
std::vector<std::string> exec_environment(const SandboxSpec& spec, const wire::ExecRequest& req);
// HTTP_PROXY & co. pointing at the agent's listener (sandboxes with network).
std::vector<std::string> proxy_environment();

// ---- relay.cc ---------------------------------------------------------------
struct RelayResult {
  std::optional<wire::ExecExit> exit;  // exec streams that finished normally
  std::string aborted;                 // why the relay ended early, if it did
};
// Relays one client stream to one agent stream both ways until the agent's
// final message or a reset/disconnect on either side. Memory: at most one
// window per direction, because bytes are consumed on the near side only
// after send_data() on the far side has accepted them.
// `client_connected` tells a client that finished its half (kFin) from one
// that went away (whose agent stream is then reset, killing the process).
asio::awaitable<RelayResult> relay_stream(Supervisor& sup, std::shared_ptr<wire::Stream> client,
                                          std::shared_ptr<wire::Stream> agent, StreamKind kind,
                                          std::function<bool()> client_connected);
// Reset both halves of a live relay (sandbox failing).
void abort_relay(RelayPair& r, const std::string& why);

// ---- captured_exec.cc -------------------------------------------------------
// A log file for a human looking back (`hull logs`) that a command printing
// forever cannot grow past `cap`: past it, bytes are consumed (so the
// command is not blocked) and dropped, after one line saying so.
class CappedLog {
 public:
  CappedLog(const std::string& path, size_t cap);
  void write(std::span<const std::byte> bytes);
  void note(const std::string& line);  // hull's own line ("[hull: ...]\n"), if not full

 private:
  UniqueFd fd_;
  size_t cap_;
  size_t written_ = 0;
  bool truncated_ = false;
};

// A command the supervisor runs on its own behalf: argv as the sandbox's
// user, in its workdir, no terminal.
wire::ExecRequest own_request(const SandboxSpec& spec, const std::vector<std::string>& argv);

// How a command the supervisor ran itself ended.
struct CapturedEnd {
  enum class Kind {
    kNotStarted,  // refused before it ran (bad request, agent said no); note says why
    kExited,      // status: shell-style exit status; note: the agent's error text
    kAborted,     // the stream was reset; note: why
    kGone,        // the channel ended or the agent broke the protocol (already reported)
  };
  Kind kind = Kind::kGone;
  int status = 0;
  std::string note;
};
// Runs `req` (defaults filled as for a client's exec) with stdin closed;
// every output chunk goes to `out`. `what` names it in logs and errors.
// With a deadline, the supervisor itself resets the stream when it passes
// (kAborted, "timed out"): the agent enforces req.timeout_ms, but a hostile
// one may not.
asio::awaitable<CapturedEnd> run_captured(Supervisor& sup, wire::ExecRequest req, const std::string& what,
                                          std::function<void(std::span<const std::byte>)> out,
                                          std::optional<std::chrono::milliseconds> deadline = std::nullopt);

// ---- main_command.cc --------------------------------------------------------
// Detach mode: run spec.command, output to dir/main.log (capped), then stop.
asio::awaitable<void> run_detached_main(Supervisor& sup);

// ---- services.cc ------------------------------------------------------------
// Service `index` of spec.services: run, log to services/<name>.log, start
// again as its restart policy says (with backoff) until the sandbox stops.
asio::awaitable<void> run_service(Supervisor& sup, size_t index);
// spec.healthcheck every interval until the sandbox stops.
asio::awaitable<void> run_healthcheck(Supervisor& sup);

}  // namespace hull::supervisor
