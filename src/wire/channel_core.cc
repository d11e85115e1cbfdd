// ChannelCore: transport, handshake, the read loop, the single writer and
// shutdown. Inbound frame checks live in channel_dispatch.cc, stream-level
// operations in channel_streams.cc.
#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "wire/channel_core.h"

namespace hull::wire {

Wakeup::Wakeup(const asio::any_io_executor& ex) : timer_(ex) {
  // Set once: expires_at() would cancel other waiters on the same timer.
  timer_.expires_at(asio::steady_timer::time_point::max());
}

asio::awaitable<void> Wakeup::wait() {
  boost::system::error_code ec;
  co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxWriteBatch = 64;  // frames per gathered write
constexpr auto kCloseFlushTimeout = std::chrono::seconds(5);

// Sockets get a socket object so writes use send(MSG_NOSIGNAL): a peer that
// went away must be an EPIPE Error, not a SIGPIPE that kills the supervisor.
// Anything else (virtio-serial char device) is a plain descriptor.
template <class Transport>
Transport make_transport(const asio::any_io_executor& ex, UniqueFd& fd, std::optional<Error>& err) {
  boost::system::error_code ec;
  int domain = 0, type = 0;
  socklen_t len = sizeof(int);
  if (getsockopt(fd.get(), SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
      getsockopt(fd.get(), SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM) {
    asio::generic::stream_protocol::socket s(ex);
    s.assign(asio::generic::stream_protocol(domain, SOCK_STREAM), fd.get(), ec);
    if (!ec) fd.release();
    else err = make_error("channel transport", ec.message());
    return Transport(std::move(s));
  }
  asio::posix::stream_descriptor d(ex);
  d.assign(fd.get(), ec);
  if (!ec) fd.release();
  else err = make_error("channel transport", ec.message());
  return Transport(std::move(d));
}

}  // namespace

ChannelCore::ChannelCore(asio::any_io_executor ex, UniqueFd fd, Channel::Side side,
                         ChannelLimits limits)
    : ex_(ex),
      io_(make_transport<Transport>(ex, fd, error_)),
      side_(side),
      limits_(limits),
      read_buf_(kReadChunk),
      window_(std::max(limits.initial_window, kInitialWindow)),
      flush_deadline_(ex),
      write_ready_(ex),
      write_room_(ex),
      next_local_id_(side == Channel::Side::kInitiator ? 1 : 2),
      acceptable_(ex),
      control_ready_(ex) {
  if (error_) {
    closed_ = transport_closed_ = true;
    reason_ = error_->message();
  }
}

void ChannelCore::start() {
  asio::co_spawn(ex_, writer(), asio::detached);
}

Error ChannelCore::closed_error() const {
  return error_ ? *error_ : make_error("channel closed", reason_);
}

Status ChannelCore::violation(const std::string& what) {
  fail(make_error("protocol violation by peer", what));
  return *error_;
}

void ChannelCore::wake_all() {
  for (auto& [id, st] : streams_) {
    st->readable.notify();
    st->writable.notify();
  }
  acceptable_.notify();
  control_ready_.notify();
  write_ready_.notify();
  write_room_.notify();
}

void ChannelCore::shutdown_transport() {
  if (transport_closed_) return;
  transport_closed_ = true;
  flush_deadline_.cancel();
  boost::system::error_code ec;
  std::visit([&ec](auto& s) { s.close(ec); }, io_);  // cancels the pending read/write
  wake_all();
}

void ChannelCore::close(const std::string& why) {
  if (closed_) return;
  closed_ = true;
  reason_ = why;
  wake_all();
  if (write_queue_.empty()) return shutdown_transport();
  // The writer flushes what is queued (e.g. a final ExecExit) and then shuts
  // the transport; a peer that stopped reading cannot hold us longer than this.
  flush_deadline_.expires_after(kCloseFlushTimeout);
  flush_deadline_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
    if (auto self = w.lock(); self && !ec) self->shutdown_transport();
  });
}

void ChannelCore::terminate(const std::string& why) {
  if (!closed_) reason_ = why;
  closed_ = true;
  shutdown_transport();
}

void ChannelCore::fail(Error e) {
  if (!error_) error_ = std::move(e);
  reason_ = error_->message();
  closed_ = true;
  shutdown_transport();
}

Status ChannelCore::enqueue(FrameType type, uint8_t flags, uint32_t stream,
                            std::span<const std::byte> payload) {
  if (closed_) return closed_error();
  std::vector<std::byte> frame;
  append_frame(frame, type, flags, stream, payload);
  write_queue_bytes_ += frame.size();
  write_queue_.push_back(std::move(frame));
  if (write_queue_bytes_ > limits_.max_write_queue_bytes) {
    fail(make_error("channel write queue", "over " + std::to_string(limits_.max_write_queue_bytes) +
                                               " bytes unsent: the peer is not reading"));
    return *error_;
  }
  write_ready_.notify();
  return ok_status();
}

asio::awaitable<Status> ChannelCore::wait_for_room() {
  while (!closed_ && write_queue_bytes_ >= limits_.max_write_queue_bytes / 2)
    co_await write_room_.wait();
  if (closed_) co_return closed_error();
  co_return ok_status();
}

asio::awaitable<void> ChannelCore::writer() {
  auto self = shared_from_this();  // the core outlives the Channel while we run
  std::vector<asio::const_buffer> batch;
  while (!transport_closed_) {
    if (write_queue_.empty()) {
      if (closed_) {
        shutdown_transport();
        break;
      }
      co_await write_ready_.wait();
      continue;
    }
    // Frames are whole vectors and deque::push_back keeps references valid,
    // so senders may queue more while this write is in flight.
    batch.clear();
    for (size_t i = 0; i < write_queue_.size() && i < kMaxWriteBatch; ++i)
      batch.push_back(asio::buffer(write_queue_[i]));
    boost::system::error_code ec;
    co_await std::visit(
        [&](auto& s) { return asio::async_write(s, batch, asio::redirect_error(asio::use_awaitable, ec)); },
        io_);
    if (ec || transport_closed_) {
      if (!transport_closed_) fail(make_error("write to channel", ec.message()));
      break;
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      write_queue_bytes_ -= write_queue_.front().size();
      write_queue_.pop_front();
    }
    write_room_.notify();
  }
  write_queue_.clear();
  write_queue_bytes_ = 0;
}

asio::awaitable<Status> ChannelCore::read_more() {
  boost::system::error_code ec;
  size_t n = co_await std::visit(
      [&](auto& s) {
        return s.async_read_some(asio::buffer(read_buf_), asio::redirect_error(asio::use_awaitable, ec));
      },
      io_);
  if (error_) co_return *error_;
  if (closed_) co_return closed_error();
  if (ec == asio::error::eof) {
    if (decoder_.buffered() > 0) {
      fail(make_error("protocol violation by peer", "channel closed in the middle of a frame"));
      co_return *error_;
    }
    terminate("peer closed the channel");
    co_return closed_error();
  }
  if (ec) {
    fail(make_error("read from channel", ec.message()));
    co_return *error_;
  }
  decoder_.feed(std::span<const std::byte>(read_buf_.data(), n));
  co_return ok_status();
}

Result<bool> ChannelCore::next_frame(std::optional<Frame>& out) {
  auto f = decoder_.next();
  if (!f) return false;
  if (!*f) {
    fail(f->error());
    return *error_;
  }
  out = std::move(**f);
  return true;
}

asio::awaitable<Result<Hello>> ChannelCore::handshake(const Hello& mine) {
  auto self = shared_from_this();
  if (handshaken_ || running_) co_return make_error("channel handshake", "already done");
  Hello h = mine;
  if (h.version == 0) h.version = kProtocolVersion;
  WIRE_CO_ASSIGN(auto payload, encode_checked(h));
  if (auto s = enqueue(FrameType::kHello, 0, 0, payload); !s) co_return s.error();

  std::optional<Frame> f;
  while (true) {
    WIRE_CO_ASSIGN(bool got, next_frame(f));
    if (got) break;
    if (auto s = co_await read_more(); !s) co_return s.error();
  }
  if (f->type != FrameType::kHello) {
    co_return violation("first frame is not hello").error();
  }
  // Peek at "version" before the strict decode: a newer peer's hello may
  // not match our schema, and "version mismatch" is the useful error then.
  const auto* text = reinterpret_cast<const char*>(f->payload.data());
  auto j = nlohmann::json::parse(text, text + f->payload.size(), nullptr, false);
  if (j.is_object() && j.contains("version") && j["version"].is_number_unsigned() &&
      j["version"].get<uint64_t>() != kProtocolVersion) {
    fail(make_error("channel handshake",
                    "protocol version mismatch: peer speaks v" +
                        std::to_string(j["version"].get<uint64_t>()) + ", we speak v" +
                        std::to_string(kProtocolVersion) +
                        " (install matching hull and hull-agent versions)"));
    co_return *error_;
  }
  auto m = decode_message(f->payload);
  if (!m) co_return violation("bad hello: " + m.error().message()).error();
  auto* peer = std::get_if<Hello>(&*m);
  if (!peer) co_return violation("hello frame carries a " + std::string(message_name(*m))).error();
  handshaken_ = true;
  co_return *peer;
}

asio::awaitable<Status> ChannelCore::run() {
  auto self = shared_from_this();
  if (!handshaken_) co_return make_error("channel run", "handshake() must complete first");
  if (running_) co_return make_error("channel run", "already running");
  running_ = true;
  while (true) {
    std::optional<Frame> f;
    while (!closed_) {  // frames already buffered (e.g. right after the hello)
      auto got = next_frame(f);
      if (!got) co_return got.error();
      if (!*got) break;
      if (auto s = dispatch(std::move(*f)); !s) co_return s;
    }
    if (closed_ && !error_) break;
    if (auto s = co_await read_more(); !s) {
      if (error_) co_return *error_;
      break;  // closed without a failure: peer EOF or our close()
    }
  }
  co_return error_ ? Status(*error_) : ok_status();
}

}  // namespace hull::wire
