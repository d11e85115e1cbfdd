#include "cli/exec_client.h"

#include <signal.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <memory>
#include <optional>
#include <variant>

#include "base/log.h"
#include "cli/commands.h"
#include "cli/tty.h"

namespace hull::cli {

namespace asio = boost::asio;
using asio::posix::stream_descriptor;

namespace {

// Shared by the three coroutines of one attach (output pump, stdin pump,
// signal watcher); lives until the last of them finished.
struct Attach {
  Attach(asio::any_io_executor ex, wire::Channel& c, std::shared_ptr<wire::Stream> s)
      : ch(c), stream(std::move(s)), in(ex), out(ex), err(ex), signals(ex) {}
  wire::Channel& ch;
  std::shared_ptr<wire::Stream> stream;
  // dup()s of our stdio: Asio closes what it owns, and fd 0/1/2 must stay.
  stream_descriptor in, out, err;
  asio::signal_set signals;
  bool tty = false;
  bool done = false;       // the process ended; helpers stop quietly
  bool detached = false;   // second Ctrl-C: we gave up waiting
  int interrupts = 0;
  bool out_broken = false; // our stdout reader went away (EPIPE)
};

bool assign_dup(stream_descriptor& d, int fd) {
  int c = ::dup(fd);
  if (c < 0) return false;
  ::fcntl(c, F_SETFD, FD_CLOEXEC);
  d.assign(c);
  return true;
}

asio::awaitable<void> pump_stdin(std::shared_ptr<Attach> a) {
  std::vector<std::byte> buf(wire::kMaxPayload);
  while (!a->done) {
    boost::system::error_code ec;
    size_t n = co_await a->in.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (a->done || ec == asio::error::operation_aborted) co_return;
    if (ec || n == 0) break;  // EOF (or a read error, which ends input the same way)
    auto st = co_await a->stream->send_data(wire::StreamFd::kStdin, std::span(buf.data(), n));
    if (!st) co_return;  // the stream/channel is gone; the output pump reports it
  }
  if (!a->done) (void)co_await a->stream->send_eof(wire::StreamFd::kStdin);
}

asio::awaitable<void> watch_signals(std::shared_ptr<Attach> a) {
  for (;;) {
    boost::system::error_code ec;
    int signo = co_await a->signals.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec || a->done) co_return;
    if (signo == SIGWINCH) {
      if (auto ws = terminal_size(); ws && a->tty)
        (void)co_await a->stream->send_message(wire::Resize{ws->rows, ws->cols});
      continue;
    }
    if (signo == SIGINT && ++a->interrupts > 1) {
      std::fprintf(stderr, "\r\nhull: detached; the process may still be running in the sandbox\r\n");
      a->detached = true;
      a->ch.close("interrupted twice");
      co_return;
    }
    (void)co_await a->stream->send_message(wire::Signal{signo});
  }
}

// Writes one received chunk to our stdout/stderr, then credits it back.
asio::awaitable<void> deliver(Attach& a, wire::StreamFd fd, const std::vector<std::byte>& data) {
  if (fd != wire::StreamFd::kStdin && !a.out_broken) {
    stream_descriptor& d = fd == wire::StreamFd::kStderr ? a.err : a.out;
    boost::system::error_code ec;
    co_await asio::async_write(d, asio::buffer(data), asio::redirect_error(asio::use_awaitable, ec));
    if (ec && d.native_handle() == a.out.native_handle()) {
      // Like a local pipeline: the producer gets SIGPIPE, we keep draining.
      a.out_broken = true;
      (void)co_await a.stream->send_message(wire::Signal{SIGPIPE});
    }
  }
  a.stream->consume(data.size());
}

asio::awaitable<int> pump_output(std::shared_ptr<Attach> a) {
  for (;;) {
    wire::Incoming in = co_await a->stream->receive();
    switch (in.kind) {
      case wire::Incoming::Kind::kData:
        co_await deliver(*a, in.fd, in.data);
        break;
      case wire::Incoming::Kind::kEof:
        break;
      case wire::Incoming::Kind::kMessage:
        if (auto* ex = std::get_if<wire::ExecExit>(&in.message)) {
          a->stream->finish();
          co_return exit_code_of(*ex);
        }
        log::debug("exec stream: {}", wire::message_name(in.message));
        break;
      case wire::Incoming::Kind::kReset:
        co_return fail("the sandbox aborted the process: " + in.reason);
      case wire::Incoming::Kind::kClosed:
        if (a->detached) co_return 130;
        co_return fail("lost the connection to the sandbox" + (in.reason.empty() ? "" : ": " + in.reason),
                       "see hull logs --supervisor");
    }
  }
}

}  // namespace

int exit_code_of(const wire::ExecExit& e) {
  // Say why on stderr; the status itself is the one the supervisor records.
  switch (e.spawn_error) {
    case wire::SpawnError::kNone: break;
    case wire::SpawnError::kNotFound: fail(e.error.empty() ? "command not found" : e.error); break;
    case wire::SpawnError::kNotExecutable:
      fail(e.error.empty() ? "command not executable" : e.error);
      break;
    case wire::SpawnError::kOther: fail("could not start the command: " + e.error); break;
  }
  if (e.timed_out) fail("the command timed out and was killed", "raise --timeout if it needs longer");
  return wire::shell_exit_status(e);
}

asio::awaitable<int> attach_exec(wire::Channel& ch, AttachOptions opts) {
  auto ex = co_await asio::this_coro::executor;
  if (opts.tty) {
    if (auto ws = terminal_size()) opts.request.rows = ws->rows, opts.request.cols = ws->cols;
  }
  auto opened = co_await ch.open(opts.request);
  if (!opened) co_return fail("start the command in the sandbox: " + opened.error().message());

  StdioFlagsGuard restore_flags;  // Asio makes our stdio non-blocking
  std::optional<RawTerminal> raw;
  if (opts.tty && opts.interactive) raw.emplace(0);

  auto a = std::make_shared<Attach>(ex, ch, *opened);
  a->tty = opts.tty;
  if (!assign_dup(a->out, 1) || !assign_dup(a->err, 2)) co_return fail("dup stdout/stderr");
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH}) a->signals.add(s);

  if (opts.interactive && assign_dup(a->in, 0)) {
    asio::co_spawn(ex, pump_stdin(a), asio::detached);
  } else {
    (void)co_await a->stream->send_eof(wire::StreamFd::kStdin);
  }
  asio::co_spawn(ex, watch_signals(a), asio::detached);

  int code = co_await pump_output(a);
  a->done = true;
  boost::system::error_code ignored;
  a->signals.cancel(ignored);
  a->in.cancel(ignored);
  co_return code;
}

}  // namespace hull::cli
