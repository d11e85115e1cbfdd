// Commands the supervisor runs in the sandbox on its own behalf (the
// detached main command, services, health checks): stdin closed, output to
// a sink, the end reported. Whatever the agent sends is checked like any
// client stream's: a message that does not belong stops the sandbox.
#include <fcntl.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>

#include "base/log.h"
#include "base/sys.h"
#include "supervisor/supervisor_core.h"

namespace hull::supervisor {

CappedLog::CappedLog(const std::string& path, size_t cap) : cap_(cap) {
  auto fd = sys::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
  if (fd) {
    fd_ = std::move(fd).value();
  } else {
    log::error("open {}: {}", path, fd.error().message());
  }
}

void CappedLog::write(std::span<const std::byte> bytes) {
  if (!fd_ || truncated_) return;
  const size_t n = std::min(cap_ - written_, bytes.size());
  if (auto st = sys::write_all(fd_.get(), bytes.first(n)); !st) {
    log::error("write log: {}", st.error().message());
    fd_.reset();
    return;
  }
  written_ += n;
  if (n < bytes.size()) {
    truncated_ = true;
    const std::string note = "\n[hull: this log reached " + std::to_string(cap_ >> 20) + " MiB; further output dropped]\n";
    (void)sys::write_all(fd_.get(), note);
    log::warn("a log reached {} bytes; dropping further output", cap_);
  }
}

void CappedLog::note(const std::string& line) {
  // Counted like the command's own bytes: a service that restarts forever
  // must not grow its log with hull's notes either.
  write(std::as_bytes(std::span(line.data(), line.size())));
}

wire::ExecRequest own_request(const SandboxSpec& spec, const std::vector<std::string>& argv) {
  wire::ExecRequest req;
  req.argv = argv;
  req.cwd = spec.workdir;
  req.uid = spec.uid;
  req.gid = spec.gid;
  req.tty = false;  // nobody is attached to the supervisor's own commands
  return req;
}

asio::awaitable<CapturedEnd> run_captured(Supervisor& sup, wire::ExecRequest req, const std::string& what,
                                          std::function<void(std::span<const std::byte>)> out,
                                          std::optional<std::chrono::milliseconds> deadline) {
  auto prepared = prepare_request(sup.spec(), req);
  if (!prepared) co_return CapturedEnd{CapturedEnd::Kind::kNotStarted, 0, prepared.error().message()};
  auto opened = co_await sup.agent().open(*prepared);
  if (!opened) co_return CapturedEnd{CapturedEnd::Kind::kNotStarted, 0, opened.error().message()};
  std::shared_ptr<wire::Stream> s = std::move(opened).value();
  (void)co_await s->send_eof(wire::StreamFd::kStdin);

  // The deadline: a timer that resets the stream; cancelled when we return.
  auto timed_out = std::make_shared<bool>(false);
  std::shared_ptr<asio::steady_timer> timer;
  if (deadline) {
    timer = std::make_shared<asio::steady_timer>(sup.executor(), *deadline);
    timer->async_wait([timer, timed_out, weak = std::weak_ptr<wire::Stream>(s), what, d = *deadline](
                          const boost::system::error_code& ec) {
      if (ec) return;  // cancelled: the command ended in time
      *timed_out = true;
      log::warn("{} did not end within {} ms; resetting its stream", what, d.count());
      if (auto live = weak.lock()) live->reset("timed out");
    });
  }
  struct CancelTimer {
    std::shared_ptr<asio::steady_timer>& t;
    ~CancelTimer() {
      if (t) t->cancel();
    }
  } cancel_timer{timer};
  const auto aborted_if_timed_out = [&](CapturedEnd end) {
    return *timed_out ? CapturedEnd{CapturedEnd::Kind::kAborted, 0,
                                    "timed out after " + std::to_string(deadline->count()) + " ms"}
                      : end;
  };

  bool started = false;
  for (;;) {
    wire::Incoming in = co_await s->receive();
    switch (in.kind) {
      case wire::Incoming::Kind::kMessage:
        if (std::holds_alternative<wire::ExecStarted>(in.message) && !started) {
          started = true;
          log::info("{} started (pid {} inside)", what, std::get<wire::ExecStarted>(in.message).pid);
        } else if (auto* e = std::get_if<wire::ExecExit>(&in.message)) {
          s->finish();
          co_return CapturedEnd{CapturedEnd::Kind::kExited, wire::shell_exit_status(*e), e->error};
        } else {
          sup.agent_violation(what + " stream: unexpected " + wire::message_name(in.message));
          co_return CapturedEnd{};
        }
        break;
      case wire::Incoming::Kind::kData:
        if (in.fd == wire::StreamFd::kStdin) {
          sup.agent_violation(what + " stream: data for stdin");
          co_return CapturedEnd{};
        }
        out(in.data);
        s->consume(in.data.size());
        break;
      case wire::Incoming::Kind::kEof:
        break;
      case wire::Incoming::Kind::kReset:
        co_return aborted_if_timed_out(CapturedEnd{CapturedEnd::Kind::kAborted, 0, in.reason});
      case wire::Incoming::Kind::kClosed:
        // The agent channel ended (its watcher reports why), or our own
        // deadline reset the stream and it is already forgotten.
        co_return aborted_if_timed_out(CapturedEnd{});
    }
  }
}

}  // namespace hull::supervisor
