#include "wire/socket_pump.h"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <vector>

namespace hull::wire {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
constexpr auto kUse = asio::as_tuple(asio::use_awaitable);
constexpr size_t kChunk = 64 * 1024;

struct Pump {
  Pump(std::shared_ptr<Stream> s, asio::posix::stream_descriptor d, StreamFd o, StreamFd i)
      : stream(std::move(s)), socket(std::move(d)), out(o), in(i) {}
  std::shared_ptr<Stream> stream;
  asio::posix::stream_descriptor socket;
  StreamFd out, in;
  PumpResult result;
  bool stopped = false;

  // The first failure wins; both directions stop at their next step (the
  // reset wakes a pending receive/send, the close a pending read/write).
  void abort(const std::string& why, bool misbehaved = false) {
    if (stopped) return;
    stopped = true;
    result.aborted = why;
    result.peer_misbehaved = misbehaved;
    stream->reset(why);
    boost::system::error_code ec;
    socket.close(ec);
  }
};

asio::awaitable<void> socket_to_stream(std::shared_ptr<Pump> p) {
  std::vector<std::byte> buf(kChunk);
  for (;;) {
    auto [ec, n] = co_await p->socket.async_read_some(asio::buffer(buf), kUse);
    if (p->stopped) co_return;
    if (ec == asio::error::eof) {
      if (auto s = co_await p->stream->send_eof(p->out); !s) p->abort(s.error().message());
      co_return;
    }
    if (ec) {
      p->abort("socket: " + ec.message());
      co_return;
    }
    if (auto s = co_await p->stream->send_data(p->out, std::span(buf.data(), n)); !s) {
      p->abort(s.error().message());
      co_return;
    }
    p->result.bytes_out += n;
  }
}

asio::awaitable<void> stream_to_socket(std::shared_ptr<Pump> p) {
  for (;;) {
    Incoming in = co_await p->stream->receive();
    if (p->stopped) co_return;
    switch (in.kind) {
      case Incoming::Kind::kData: {
        if (in.fd != p->in) {
          p->abort("data on the wrong fd", true);
          co_return;
        }
        auto [ec, n] = co_await asio::async_write(p->socket, asio::buffer(in.data), kUse);
        if (p->stopped) co_return;
        if (ec) {
          p->abort("socket: " + ec.message());
          co_return;
        }
        p->stream->consume(n);
        p->result.bytes_in += n;
        break;
      }
      case Incoming::Kind::kEof:
        if (in.fd != p->in) {
          p->abort("eof on the wrong fd", true);
          co_return;
        }
        ::shutdown(p->socket.native_handle(), SHUT_WR);
        co_return;  // nothing more may come this way
      case Incoming::Kind::kMessage:
        p->abort(std::string("unexpected ") + message_name(in.message), true);
        co_return;
      case Incoming::Kind::kReset:
        p->abort(in.reason.empty() ? "reset by peer" : in.reason);
        co_return;
      case Incoming::Kind::kClosed:
        p->abort(in.reason.empty() ? "closed" : in.reason);
        co_return;
    }
  }
}

}  // namespace

asio::awaitable<PumpResult> pump_socket(std::shared_ptr<Stream> stream,
                                        asio::posix::stream_descriptor socket, StreamFd out,
                                        StreamFd in) {
  auto p = std::make_shared<Pump>(std::move(stream), std::move(socket), out, in);
  co_await (socket_to_stream(p) && stream_to_socket(p));
  if (!p->stopped) {
    p->stopped = true;
    p->stream->finish();
    boost::system::error_code ec;
    p->socket.close(ec);
  }
  co_return p->result;
}

}  // namespace hull::wire
