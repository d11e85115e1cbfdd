// ChannelCore: opening/accepting streams, the control stream, and every
// per-stream operation behind Stream (credit, eof, fin, reset, release).
#include <algorithm>

#include "wire/channel_core.h"

namespace hull::wire {

Result<std::vector<std::byte>> ChannelCore::encode_checked(const Message& m) {
  auto bytes = encode_message_bytes(m);
  if (bytes.size() > kMaxPayload)
    return make_error("encode " + std::string(message_name(m)),
                      "message over " + std::to_string(kMaxPayload) + " bytes");
  if (auto r = decode_message(bytes); !r)
    return make_error("encode " + std::string(message_name(m)), r.error().detail);
  return bytes;
}

namespace {
Status not_hello(const Message& m) {
  if (std::holds_alternative<Hello>(m))
    return make_error("send hello", "hello is only sent by handshake()");
  return ok_status();
}
}  // namespace

asio::awaitable<Result<std::shared_ptr<Stream>>> ChannelCore::open(const Message& request) {
  auto self = shared_from_this();
  WIRE_CO_TRY(not_hello(request));
  WIRE_CO_ASSIGN(auto payload, encode_checked(request));
  WIRE_CO_TRY(co_await wait_for_room());
  if (live_streams(true) >= limits_.max_streams)
    co_return make_error("open stream", std::to_string(limits_.max_streams) +
                                            " streams already open (ChannelLimits::max_streams)");
  if (next_local_id_ > UINT32_MAX - 2) co_return make_error("open stream", "stream ids exhausted");
  const uint32_t id = next_local_id_;
  next_local_id_ += 2;
  auto st = std::make_unique<StreamState>(ex_);
  st->local = true;
  st->handle = true;
  st->recv_credit = window_;
  streams_.emplace(id, std::move(st));
  WIRE_CO_TRY(enqueue(FrameType::kOpen, 0, id, payload));
  if (window_ > kInitialWindow)
    WIRE_CO_TRY(enqueue(FrameType::kWindow, 0, id, encode_window(window_ - kInitialWindow)));
  co_return std::make_shared<Stream>(self, id);
}

asio::awaitable<Result<Channel::Accepted>> ChannelCore::accept() {
  auto self = shared_from_this();
  while (true) {
    if (closed_) co_return closed_error();
    if (!accept_queue_.empty()) {
      auto [id, request] = std::move(accept_queue_.front());
      accept_queue_.pop_front();
      StreamState* st = find(id);
      if (!st) continue;  // reset before we got to it (maybe_forget normally drops those)
      st->accepted = true;
      st->handle = true;
      co_return Channel::Accepted{std::make_shared<Stream>(self, id), std::move(request)};
    }
    co_await acceptable_.wait();
  }
}

asio::awaitable<Status> ChannelCore::send_control(const Message& m) {
  auto self = shared_from_this();
  WIRE_CO_TRY(not_hello(m));
  WIRE_CO_ASSIGN(auto payload, encode_checked(m));
  WIRE_CO_TRY(co_await wait_for_room());
  co_return enqueue(FrameType::kMessage, 0, 0, payload);
}

asio::awaitable<Result<Message>> ChannelCore::receive_control() {
  auto self = shared_from_this();
  while (true) {
    // Queued messages are delivered even after close: a final Event sent
    // just before the agent exited is still worth reading.
    if (!control_queue_.empty()) {
      auto [m, bytes] = std::move(control_queue_.front());
      control_queue_.pop_front();
      control_queue_bytes_ -= bytes;
      co_return std::move(m);
    }
    if (closed_) co_return closed_error();
    co_await control_ready_.wait();
  }
}

Status ChannelCore::stream_writable(uint32_t id, StreamState* st) const {
  const std::string sid = "stream " + std::to_string(id);
  if (closed_) return closed_error();
  if (!st) return make_error(sid, "closed");
  if (st->reset) return make_error(sid, st->reset_reason);
  if (st->local_fin) return make_error(sid, "already finished");
  return ok_status();
}

asio::awaitable<Incoming> ChannelCore::receive(uint32_t id) {
  auto self = shared_from_this();
  while (true) {
    StreamState* st = find(id);
    Incoming out;
    if (!st) {
      out.reason = "stream closed";
      co_return out;
    }
    if (!st->inbound.empty()) {
      out = std::move(st->inbound.front());
      st->inbound.pop_front();
      if (out.kind == Incoming::Kind::kMessage) {
        // A message is gone from our buffers once handed out: return its
        // credit now. Data credit waits for consume().
        const uint32_t cost = st->message_costs.front();
        st->message_costs.pop_front();
        (void)grant(id, *st, cost);
      }
      co_return out;
    }
    // A peer that finished and then dropped the stream (kFin, kReset) ended
    // it normally as far as our reader is concerned.
    if (st->reset && (st->reset_locally || !st->remote_fin)) {
      out.kind = Incoming::Kind::kReset;
      out.reason = st->reset_reason;
      co_return out;
    }
    if (st->remote_fin || closed_) {
      out.reason = st->remote_fin ? "stream finished by peer" : reason_;
      co_return out;
    }
    co_await st->readable.wait();
  }
}

Status ChannelCore::grant(uint32_t id, StreamState& st, uint64_t n) {
  st.recv_credit += n;
  // No point crediting a peer that will not send again.
  if (n == 0 || closed_ || st.done() || st.remote_fin) return ok_status();
  return enqueue(FrameType::kWindow, 0, id, encode_window(static_cast<uint32_t>(n)));
}

void ChannelCore::consume(uint32_t id, size_t n) {
  StreamState* st = find(id);
  if (!st) return;
  n = std::min<uint64_t>(n, st->unconsumed);  // never grant more than was received
  st->unconsumed -= n;
  (void)grant(id, *st, n);  // an enqueue failure already failed the channel
}

asio::awaitable<Status> ChannelCore::send_data(uint32_t id, StreamFd fd,
                                               std::span<const std::byte> bytes) {
  auto self = shared_from_this();
  const auto fdi = static_cast<size_t>(fd);
  size_t off = 0;
  do {
    StreamState* st = find(id);
    WIRE_CO_TRY(stream_writable(id, st));
    if (st->eof_out[fdi]) co_return make_error("stream " + std::to_string(id), "data after eof");
    if (bytes.empty()) break;
    if (st->send_credit == 0) {
      co_await st->writable.wait();  // woken by kWindow, reset, fin or close
      continue;
    }
    if (write_queue_bytes_ >= limits_.max_write_queue_bytes / 2) {
      co_await write_room_.wait();
      continue;
    }
    const size_t n = std::min<uint64_t>({bytes.size() - off, st->send_credit, kMaxPayload});
    WIRE_CO_TRY(enqueue(FrameType::kData, static_cast<uint8_t>(fd), id, bytes.subspan(off, n)));
    st->send_credit -= n;
    off += n;
  } while (off < bytes.size());
  co_return ok_status();
}

asio::awaitable<Status> ChannelCore::send_message(uint32_t id, const Message& m) {
  auto self = shared_from_this();
  WIRE_CO_TRY(not_hello(m));
  WIRE_CO_ASSIGN(auto payload, encode_checked(m));
  const uint32_t cost = message_credit(payload.size());
  while (true) {
    StreamState* st = find(id);
    WIRE_CO_TRY(stream_writable(id, st));
    if (st->send_credit < cost) {
      co_await st->writable.wait();
      continue;
    }
    if (write_queue_bytes_ >= limits_.max_write_queue_bytes / 2) {
      co_await write_room_.wait();
      continue;
    }
    WIRE_CO_TRY(enqueue(FrameType::kMessage, 0, id, payload));
    st->send_credit -= cost;
    co_return ok_status();
  }
}

asio::awaitable<Status> ChannelCore::send_eof(uint32_t id, StreamFd fd) {
  auto self = shared_from_this();
  WIRE_CO_TRY(co_await wait_for_room());
  StreamState* st = find(id);
  WIRE_CO_TRY(stream_writable(id, st));
  const auto fdi = static_cast<size_t>(fd);
  if (st->eof_out[fdi]) co_return make_error("stream " + std::to_string(id), "second eof");
  WIRE_CO_TRY(enqueue(FrameType::kEof, static_cast<uint8_t>(fd), id, {}));
  st->eof_out[fdi] = true;
  co_return ok_status();
}

void ChannelCore::reset(uint32_t id, const std::string& reason) {
  StreamState* st = find(id);
  if (!st || st->done()) return;
  std::string r = reason.substr(0, kMaxResetReason);
  (void)enqueue(FrameType::kReset, 0, id,
                std::span(reinterpret_cast<const std::byte*>(r.data()), r.size()));
  st->reset = true;
  st->reset_locally = true;
  st->reset_reason = "reset: " + r;
  st->inbound.clear();  // we aborted: nobody wants what was queued
  st->message_costs.clear();
  st->readable.notify();
  st->writable.notify();
  maybe_forget(id);
}

void ChannelCore::finish(uint32_t id) {
  StreamState* st = find(id);
  if (!st || st->done() || st->local_fin) return;
  (void)enqueue(FrameType::kFin, 0, id, {});
  st->local_fin = true;
  st->writable.notify();  // pending senders now fail with "already finished"
  maybe_forget(id);
}

void ChannelCore::release(uint32_t id) {
  StreamState* st = find(id);
  if (!st) return;
  // Dropping a stream that is not done tells the peer, so it stops sending
  // and frees its side; anything it still sends is a late frame we ignore.
  if (!st->done()) reset(id, "stream dropped");
  streams_.erase(id);
}

}  // namespace hull::wire
