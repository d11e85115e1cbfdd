#include "supervisor/egress_bridge.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/paths.h"
#include "base/sys.h"
#include "base/time_text.h"
#include "egress/control_link.h"
#include "supervisor/supervisor_core.h"
#include "wire/socket_pump.h"

namespace hull::supervisor {

namespace {

using Json = nlohmann::json;
constexpr auto kUse = asio::as_tuple(asio::use_awaitable);
// Streams kept parked with the agent: connections it can hand over at once.
constexpr uint32_t kParkedStreams = 16;
constexpr size_t kNetworkLogCap = size_t{16} << 20;
// A crashing egress process is started again for the next connection, but
// not forever.
constexpr uint32_t kMaxRestarts = 20;

std::string find_hull() { return paths::sibling_program("hull", "cli", "HULL_BIN"); }

}  // namespace

std::string network_log_path(const std::string& sandbox_dir) { return sandbox_dir + "/network.log"; }

NetworkCounts count_network_events(const std::string& sandbox_dir) {
  NetworkCounts c;
  auto text = sys::read_file(network_log_path(sandbox_dir), kNetworkLogCap + 4096);
  if (!text) return c;
  size_t start = 0;
  while (start < text->size()) {
    size_t nl = text->find('\n', start);
    if (nl == std::string::npos) nl = text->size();
    Json j = Json::parse(std::string_view(*text).substr(start, nl - start), nullptr, false);
    start = nl + 1;
    if (!j.is_object()) continue;
    const std::string kind = j.value("kind", "");
    if (kind == "connection-aborted") ++c.aborted;
    if (kind != "connection") continue;
    ++c.attempts;
    (j.value("decision", "") == "allowed" ? c.allowed : c.refused) += 1;
    if (j.contains("bytes_up") && j["bytes_up"].is_number_unsigned()) c.bytes_up += j["bytes_up"].get<uint64_t>();
    if (j.contains("bytes_down") && j["bytes_down"].is_number_unsigned()) c.bytes_down += j["bytes_down"].get<uint64_t>();
  }
  return c;
}

NetworkLog::NetworkLog(const std::string& path, size_t cap) : cap_(cap) {
  auto fd = sys::open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (fd) {
    fd_ = std::move(fd).value();
  } else {
    log::error("open {}: {}", path, fd.error().message());
  }
}

void NetworkLog::append(const std::string& json_line) {
  if (!fd_ || full_) return;
  if (written_ + json_line.size() + 1 > cap_) {
    full_ = true;
    const std::string note = Json{{"time", now_rfc3339()},
                                  {"kind", "log-full"},
                                  {"detail", "network.log reached its cap; later events are dropped"}}
                                 .dump() + "\n";
    (void)sys::write_all(fd_.get(), note);
    return;
  }
  if (auto st = sys::write_all(fd_.get(), json_line + "\n"); !st) {
    log::error("write network.log: {}", st.error().message());
    fd_.reset();
    return;
  }
  written_ += json_line.size() + 1;
  ++lines_;
}

EgressBridge::EgressBridge(Supervisor& sup, egress::EgressConfig config)
    : sup_(sup), config_(std::move(config)), log_(network_log_path(sup.dir()), kNetworkLogCap) {}

EgressBridge::~EgressBridge() { stop(); }

void EgressBridge::supervisor_event(const std::string& kind, const std::string& detail) {
  log_.append(Json{{"time", now_rfc3339()}, {"kind", kind}, {"detail", detail}}.dump());
}

Status EgressBridge::spawn_process() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return sys_error("socketpair for egress");
  UniqueFd mine(sv[0]), theirs(sv[1]);
  const std::string hull = find_hull();
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork egress process");
  if (pid == 0) {
    // Child: only the link (as fd 3) and stdio survive the exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    if (::dup2(theirs.get(), 3) < 0) ::_exit(1);
    ::syscall(SYS_close_range, 4U, ~0U, 0U);
    const char* argv[] = {hull.c_str(), "__egress", nullptr};
    ::execv(hull.c_str(), const_cast<char* const*>(argv));
    ::_exit(127);
  }
  theirs.reset();
  pid_ = pid;
  pidfd_ = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (auto st = egress::send_link_message(mine.get(), Json{{"config", egress::config_to_json(config_)}}.dump());
      !st)
    return st;
  // Never block the supervisor on a stuck egress process: a full link is
  // EAGAIN, and that connection fails.
  ::fcntl(mine.get(), F_SETFL, ::fcntl(mine.get(), F_GETFL) | O_NONBLOCK);
  link_.emplace(sup_.executor(), mine.release());
  ++generation_;
  asio::co_spawn(sup_.executor(), read_events(generation_), asio::detached);
  log::info("egress process {} started ({})", pid, hull);
  return ok_status();
}

void EgressBridge::process_gone(const std::string& why) {
  if (pid_ == 0) return;
  boost::system::error_code ec;
  if (link_) link_->close(ec);
  link_.reset();
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  const std::string how = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                              : "exited with " + std::to_string(WEXITSTATUS(status));
  log::warn("egress process {} gone ({}): {}", pid_, how, why);
  if (!stopped_) supervisor_event("egress-process-exited", "pid " + std::to_string(pid_) + " " + how + ": " + why);
  pid_ = 0;
  pidfd_.reset();
}

asio::awaitable<void> EgressBridge::read_events(uint64_t generation) {
  while (generation == generation_ && link_) {
    auto [ec] = co_await link_->async_wait(asio::posix::descriptor_base::wait_read, kUse);
    if (generation != generation_ || !link_) co_return;
    if (ec) {
      process_gone("link: " + ec.message());
      co_return;
    }
    auto msg = egress::receive_link_message(link_->native_handle());
    if (!msg || msg->json.empty()) {
      process_gone(msg ? "link closed" : msg.error().message());
      co_return;
    }
    // From another host process, but one that parses sandbox bytes: bounded
    // (the link's message size), re-serialised so a line is one line.
    Json j = Json::parse(msg->json, nullptr, false);
    if (!j.is_object() || !j.contains("event") || !j["event"].is_object()) {
      process_gone("sent something that is not an event");
      co_return;
    }
    log_.append(j["event"].dump(-1, ' ', false, Json::error_handler_t::replace));
  }
}

asio::awaitable<Status> EgressBridge::start() {
  egress::apply_test_overrides_from_env(config_);
  if (auto st = spawn_process(); !st) co_return st.error();
  for (uint32_t i = 0; i < std::min(kParkedStreams, config_.max_connections); ++i) co_await park_one();
  co_return ok_status();
}

asio::awaitable<void> EgressBridge::park_one() {
  if (stopped_ || parked_ + open_ >= config_.max_connections) co_return;
  ++parked_;
  auto s = co_await sup_.agent().open(wire::EgressAccept{});
  if (!s) {
    --parked_;
    co_return;
  }
  asio::co_spawn(sup_.executor(), serve(std::move(*s)), asio::detached);
}

asio::awaitable<void> EgressBridge::serve(std::shared_ptr<wire::Stream> stream) {
  wire::Incoming first = co_await stream->receive();
  --parked_;
  if (first.kind == wire::Incoming::Kind::kReset || first.kind == wire::Incoming::Kind::kClosed)
    co_return;  // the agent shut its listener, or the sandbox is gone
  auto* hello = first.kind == wire::Incoming::Kind::kMessage ? std::get_if<wire::EgressConnected>(&first.message)
                                                             : nullptr;
  if (hello == nullptr) {
    const std::string what = first.kind == wire::Incoming::Kind::kMessage ? wire::message_name(first.message)
                             : first.kind == wire::Incoming::Kind::kData  ? "data"
                                                                          : "eof";
    sup_.agent_violation("egress stream: " + what + " instead of egress_connected");
    stream->reset("protocol violation");
    co_return;
  }
  ++open_;
  ++connections_;
  const uint64_t conn_id = connections_;
  co_await park_one();  // the next client need not wait for this one

  // Twice at most: a process that died since the last connection (its
  // link may still look open until its EOF is read) is replaced.
  bool handed_over = false;
  for (int attempt = 0; attempt < 2 && !handed_over && !stopped_; ++attempt) {
    if (pid_ == 0) {
      if (restarts_ >= kMaxRestarts) break;
      ++restarts_;
      if (auto st = spawn_process(); !st) {
        supervisor_event("egress-process-failed", st.error().message());
        break;
      }
    }
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) break;
    UniqueFd mine(sv[0]), theirs(sv[1]);
    const std::string header = Json{{"conn", Json{{"id", conn_id}, {"client", hello->client}, {"kind", hello->kind}}}}
                                   .dump(-1, ' ', false, Json::error_handler_t::replace);
    if (auto st = egress::send_link_message(link_->native_handle(), header, theirs.get()); !st) {
      process_gone(st.error().message());
      continue;
    }
    handed_over = true;
    theirs.reset();
    asio::posix::stream_descriptor sock(sup_.executor(), mine.release());
    auto r = co_await wire::pump_socket(stream, std::move(sock), wire::StreamFd::kStdin, wire::StreamFd::kStdout);
    if (r.peer_misbehaved) sup_.agent_violation("egress stream: " + r.aborted);
    // The egress process reports every connection it served, but not one it
    // died serving: say what happened to it here.
    if (!r.aborted.empty() && pid_ == 0)
      log_.append(Json{{"time", now_rfc3339()},
                       {"kind", "connection-aborted"},
                       {"conn", conn_id},
                       {"client", hello->client},
                       {"detail", "the egress process died: " + r.aborted},
                       {"bytes_up", r.bytes_out},
                       {"bytes_down", r.bytes_in}}
                      .dump(-1, ' ', false, Json::error_handler_t::replace));
  }
  if (!handed_over) {
    stream->reset("no egress process to carry the connection");
    supervisor_event("connection-dropped", "no egress process (" + std::to_string(restarts_) +
                                               " restarts); client " + hello->client);
  }
  --open_;
  co_await park_one();
}
void EgressBridge::stop() {
  if (stopped_) return;
  stopped_ = true;
  process_gone("sandbox stopping");
}

}  // namespace hull::supervisor
