#include "agent/exec_session.h"

#include <signal.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <deque>
#include <vector>

#include "agent/pty.h"
#include "agent/spawn.h"
#include "agent/wakeup.h"

namespace hull::agent {
namespace {

using asio::posix::stream_descriptor;
using wire::Incoming;
using wire::StreamFd;
constexpr auto kUse = asio::as_tuple(asio::use_awaitable);
constexpr size_t kChunk = 64 * 1024;
// After a kill (timeout), output is drained this long after the leader's
// exit; a descendant that left the process group may hold the pipes forever.
constexpr auto kDrainAfterKill = std::chrono::seconds(1);

class ExecSession : public std::enable_shared_from_this<ExecSession> {
 public:
  ExecSession(AgentState& state, std::shared_ptr<wire::Stream> stream, wire::ExecRequest req)
      : state_(state),
        stream_(std::move(stream)),
        req_(std::move(req)),
        in_(state.ex),
        out_(state.ex),
        err_(state.ex),
        stdin_ready_(state.ex),
        deadline_(state.ex) {}

  asio::awaitable<void> run();

 private:
  // `self` keeps the session alive for a detached coroutine (a parameter is
  // captured when the coroutine is created, unlike shared_from_this() inside).
  asio::awaitable<void> input_loop(std::shared_ptr<ExecSession> self);
  asio::awaitable<void> stdin_writer(std::shared_ptr<ExecSession> self);
  asio::awaitable<void> pump(stream_descriptor& d, StreamFd fd);
  asio::awaitable<void> enforce_timeout(std::shared_ptr<ExecSession> self);
  asio::awaitable<std::optional<ChildReport>> read_report(UniqueFd fd);
  asio::awaitable<void> send_exit(wire::ExecExit m);

  stream_descriptor& input() { return req_.tty ? out_ : in_; }
  void kill_group(int signo) {
    if (pgid_ > 0 && !finished_) ::kill(-pgid_, signo);
  }
  void close_output() {
    boost::system::error_code ec;
    out_.close(ec);
    err_.close(ec);
  }
  void close_stdin() {
    stdin_open_ = false;
    for (const auto& chunk : stdin_queue_) stream_->consume(chunk.size());
    stdin_queue_.clear();
    boost::system::error_code ec;
    in_.close(ec);
    stdin_ready_.notify();
  }
  // The host gave up on this stream (reset) or the channel is gone: nobody
  // will read the output, so the processes go.
  void abort() {
    stream_ok_ = false;
    kill_group(SIGKILL);
    close_stdin();
    close_output();
  }

  AgentState& state_;
  std::shared_ptr<wire::Stream> stream_;
  wire::ExecRequest req_;
  std::shared_ptr<ChildWatch> watch_;
  pid_t pgid_ = -1;
  stream_descriptor in_, out_, err_;  // with a PTY, out_ is the master and in_ is unused
  std::deque<std::vector<std::byte>> stdin_queue_;  // bounded by the credit we grant
  bool stdin_open_ = true;
  bool stdin_eof_ = false;  // host sent Eof(kStdin): close once the queue drained
  Wakeup stdin_ready_;
  bool stream_ok_ = true;   // we may still send on the stream
  bool timed_out_ = false;
  bool finished_ = false;   // the group is no longer ours to signal
  asio::steady_timer deadline_;
};

asio::awaitable<void> ExecSession::run() {
  auto self = shared_from_this();
  auto child = start_child(req_);
  if (!child) {
    co_spawn(state_.ex, input_loop(shared_from_this()), asio::detached);  // holds the stream until the host is done
    close_stdin();
    wire::ExecExit m;
    m.spawn_error = wire::SpawnError::kOther;
    m.error = child.error().message();
    co_await send_exit(std::move(m));
    co_return;
  }
  watch_ = state_.reaper.watch(child->pid);
  pgid_ = child->pid;
  state_.groups.insert(pgid_);
  if (req_.tty) {
    out_.assign(child->pty_master.release());
  } else {
    in_.assign(child->stdin_w.release());
    out_.assign(child->stdout_r.release());
    err_.assign(child->stderr_r.release());
  }
  co_spawn(state_.ex, input_loop(shared_from_this()), asio::detached);
  co_spawn(state_.ex, stdin_writer(shared_from_this()), asio::detached);

  if (auto report = co_await read_report(std::move(child->error_pipe))) {
    (void)co_await watch_->wait();  // it _exits right after the report
    finished_ = true;
    close_stdin();
    close_output();
    auto failure = describe_failure(*report, req_);
    wire::ExecExit m;
    m.spawn_error = failure.kind;
    m.error = std::move(failure.message);
    co_await send_exit(std::move(m));
    co_return;
  }

  if (!(co_await stream_->send_message(wire::ExecStarted{pgid_})).ok()) abort();
  if (req_.timeout_ms > 0) co_spawn(state_.ex, enforce_timeout(shared_from_this()), asio::detached);

  using namespace asio::experimental::awaitable_operators;
  if (req_.tty) co_await pump(out_, StreamFd::kStdout);
  else co_await (pump(out_, StreamFd::kStdout) && pump(err_, StreamFd::kStderr));

  ExitStatus s = co_await watch_->wait();
  finished_ = true;
  deadline_.cancel();
  close_output();
  wire::ExecExit m;
  m.exit_code = s.signal == 0 ? s.exit_code : -1;
  m.signal = s.signal;
  m.timed_out = timed_out_;
  co_await send_exit(std::move(m));
}

asio::awaitable<void> ExecSession::send_exit(wire::ExecExit m) {
  if (stream_ok_ && (co_await stream_->send_message(m)).ok()) stream_->finish();
  // Shutdown waits for this: the host hears how its commands ended.
  if (pgid_ > 0) state_.groups.erase(pgid_);
  state_.groups_changed.notify();
  // The input loop keeps the stream alive until the host finishes or resets
  // it: dropping it earlier would reset it under the host's feet.
}

asio::awaitable<std::optional<ChildReport>> ExecSession::read_report(UniqueFd fd) {
  stream_descriptor d(state_.ex, fd.release());
  ChildReport r{};
  auto [ec, n] = co_await asio::async_read(d, asio::buffer(&r, sizeof r), kUse);
  if (n == sizeof r) co_return r;
  if (n == 0) co_return std::nullopt;  // EOF without a report: exec succeeded
  co_return ChildReport{ChildStep::kExec, EIO};  // torn report: cannot happen for <= PIPE_BUF
}

asio::awaitable<void> ExecSession::pump(stream_descriptor& d, StreamFd fd) {
  auto self = shared_from_this();
  std::vector<std::byte> buf(kChunk);
  while (d.is_open()) {
    // Any error is the end: EOF on a pipe, EIO on a PTY master once the
    // terminal's last user is gone, or the descriptor closed by abort().
    auto [ec, n] = co_await d.async_read_some(asio::buffer(buf), kUse);
    if (ec) break;
    // Waits for the host's credit: this is where a fast producer is throttled.
    if (stream_ok_ && !(co_await stream_->send_data(fd, std::span(buf.data(), n))).ok()) abort();
  }
  if (stream_ok_) (void)co_await stream_->send_eof(fd);
}

asio::awaitable<void> ExecSession::input_loop(std::shared_ptr<ExecSession> self) {
  for (;;) {
    Incoming in = co_await stream_->receive();
    switch (in.kind) {
      case Incoming::Kind::kData: {
        if (in.fd != StreamFd::kStdin) {
          stream_->reset("exec: data is only accepted for stdin");
          abort();
          co_return;
        }
        if (!stdin_open_ || stdin_eof_) {
          stream_->consume(in.data.size());  // nobody reads it any more: drop
          break;
        }
        stdin_queue_.push_back(std::move(in.data));
        stdin_ready_.notify();
        break;
      }
      case Incoming::Kind::kEof:
        if (in.fd == StreamFd::kStdin) {
          stdin_eof_ = true;
          stdin_ready_.notify();
        }
        break;
      case Incoming::Kind::kMessage:
        if (auto* r = std::get_if<wire::Resize>(&in.message)) {
          if (req_.tty && out_.is_open()) (void)set_window_size(out_.native_handle(), r->rows, r->cols);
        } else if (auto* s = std::get_if<wire::Signal>(&in.message)) {
          // decode_message bounds signo to 1..64; checked again because a
          // stray 0 or negative value would mean "probe" or "everyone".
          if (s->signo >= 1 && s->signo <= SIGRTMAX) kill_group(s->signo);
        } else {
          stream_->reset(std::string("exec: unexpected message ") + wire::message_name(in.message));
          abort();
          co_return;
        }
        break;
      case Incoming::Kind::kReset:
        abort();
        co_return;
      case Incoming::Kind::kClosed:
        if (!state_.channel.is_open()) {
          abort();
        } else {
          stdin_eof_ = true;  // the host finished its side: no more input
          stdin_ready_.notify();
        }
        co_return;
    }
  }
}

asio::awaitable<void> ExecSession::stdin_writer(std::shared_ptr<ExecSession> self) {
  // Separate from input_loop so a child that never reads stdin cannot stop
  // Signal/Resize/Reset from being handled. Credit is returned only after a
  // chunk reached the child, so the queue never exceeds one window.
  while (stdin_open_) {
    if (stdin_queue_.empty()) {
      if (stdin_eof_) break;
      co_await stdin_ready_.wait();
      continue;
    }
    auto& chunk = stdin_queue_.front();
    auto [ec, n] = co_await asio::async_write(input(), asio::buffer(chunk), kUse);
    if (!stdin_open_) co_return;  // close_stdin() already returned the credit
    if (ec) {                     // EPIPE: the child closed its stdin
      close_stdin();
      co_return;
    }
    stream_->consume(chunk.size());
    stdin_queue_.pop_front();
  }
  if (!stdin_open_) co_return;
  if (req_.tty) {
    // Closing the master would hang up the terminal; type VEOF instead.
    const char eof = eof_char(out_.native_handle());
    (void)co_await asio::async_write(out_, asio::buffer(&eof, 1), kUse);
    stdin_open_ = false;
  } else {
    close_stdin();
  }
}

asio::awaitable<void> ExecSession::enforce_timeout(std::shared_ptr<ExecSession> self) {
  deadline_.expires_after(std::chrono::milliseconds(req_.timeout_ms));
  auto [ec] = co_await deadline_.async_wait(kUse);
  if (ec || finished_ || watch_->exited()) co_return;
  timed_out_ = true;
  kill_group(SIGKILL);
  (void)co_await watch_->wait();
  asio::steady_timer drain(state_.ex, kDrainAfterKill);
  (void)co_await drain.async_wait(kUse);
  close_output();
}

}  // namespace

asio::awaitable<void> serve_exec(AgentState& state, std::shared_ptr<wire::Stream> stream,
                                 wire::ExecRequest req) {
  auto session = std::make_shared<ExecSession>(state, std::move(stream), std::move(req));
  co_await session->run();
}

}  // namespace hull::agent
