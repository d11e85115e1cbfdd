// ChannelCore: every check on an inbound frame after the handshake. This is
// where a hostile peer's frames are judged: a violation fails the channel;
// a late frame for a stream that is gone is ignored.
#include "wire/channel_core.h"

namespace hull::wire {
namespace {

// Reset reasons end up in logs and terminals: keep printable ASCII only.
std::string printable(std::span<const std::byte> in) {
  std::string s;
  s.reserve(in.size());
  for (std::byte b : in) {
    auto c = static_cast<unsigned char>(b);
    s.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  return s;
}

}  // namespace

StreamState* ChannelCore::find(uint32_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

bool ChannelCore::peer_parity(uint32_t id) const {
  const bool odd = id % 2 == 1;
  return side_ == Channel::Side::kInitiator ? !odd : odd;
}

bool ChannelCore::existed(uint32_t id) const {
  return peer_parity(id) ? id <= last_peer_id_ : id < next_local_id_;
}

size_t ChannelCore::live_streams(bool local) const {
  size_t n = 0;
  for (const auto& [id, st] : streams_) n += st->local == local && !st->done();
  return n;
}

void ChannelCore::maybe_forget(uint32_t id) {
  StreamState* st = find(id);
  if (!st || !st->done() || st->handle) return;
  if (!st->accepted) {
    std::erase_if(accept_queue_, [id](const auto& e) { return e.first == id; });
  }
  streams_.erase(id);
}

Status ChannelCore::dispatch(Frame f) {
  const std::string sid = "stream " + std::to_string(f.stream);
  switch (f.type) {
    case FrameType::kHello:
      return violation("hello after the handshake");
    case FrameType::kOpen:
      return on_open(f);
    case FrameType::kMessage:
      if (f.stream == 0) {
        if (control_queue_.size() >= limits_.max_queued_messages ||
            control_queue_bytes_ + f.payload.size() > limits_.max_queued_control_bytes)
          return violation("more than " + std::to_string(limits_.max_queued_messages) +
                           " control messages (or 1 MiB) unread");
        auto m = decode_message(f.payload);
        if (!m) return violation("stream 0: " + m.error().message());
        if (std::holds_alternative<Hello>(*m)) return violation("hello outside the handshake");
        control_queue_bytes_ += f.payload.size();
        control_queue_.emplace_back(std::move(*m), f.payload.size());
        control_ready_.notify();
        return ok_status();
      }
      [[fallthrough]];
    case FrameType::kData:
    case FrameType::kWindow:
    case FrameType::kEof:
    case FrameType::kReset:
    case FrameType::kFin: {
      StreamState* st = find(f.stream);
      // Late frames for a stream that is gone (we reset it while the peer
      // was still sending) are expected and ignored; frames for an id that
      // was never opened mean the peer's state machine is broken.
      if (!st || st->done()) {
        if (st || existed(f.stream)) return ok_status();
        return violation("frame for " + sid + ", which was never opened");
      }
      return on_stream_frame(f, *st);
    }
  }
  return violation("unhandled frame type");
}

Status ChannelCore::on_open(Frame& f) {
  const uint32_t id = f.stream;
  const std::string sid = "stream " + std::to_string(id);
  if (!limits_.peer_may_open) return violation("peer opened " + sid + ", but this side accepts no streams");
  if (!peer_parity(id)) return violation("peer opened " + sid + ", which has our parity");
  if (id <= last_peer_id_) return violation("peer reused or reordered " + sid);
  last_peer_id_ = id;
  if (live_streams(false) >= limits_.max_streams)
    return violation("peer opened more than " + std::to_string(limits_.max_streams) + " streams");
  auto m = decode_message(f.payload);
  if (!m) return violation(sid + " open: " + m.error().message());
  if (std::holds_alternative<Hello>(*m)) return violation("hello outside the handshake");
  auto st = std::make_unique<StreamState>(ex_);
  st->recv_credit = window_;
  streams_.emplace(id, std::move(st));
  if (window_ > kInitialWindow)
    HULL_TRY(enqueue(FrameType::kWindow, 0, id, encode_window(window_ - kInitialWindow)));
  accept_queue_.emplace_back(id, std::move(*m));
  acceptable_.notify();
  return ok_status();
}

Status ChannelCore::on_stream_frame(Frame& f, StreamState& st) {
  const uint32_t id = f.stream;
  const std::string sid = "stream " + std::to_string(id);
  const size_t len = f.payload.size();
  switch (f.type) {
    case FrameType::kMessage: {
      if (st.remote_fin) return violation(sid + ": message after fin");
      const uint32_t cost = message_credit(len);
      if (cost > st.recv_credit) return violation(sid + ": message beyond the granted credit");
      st.recv_credit -= cost;
      auto m = decode_message(f.payload);
      if (!m) return violation(sid + ": " + m.error().message());
      if (std::holds_alternative<Hello>(*m)) return violation("hello outside the handshake");
      Incoming in;
      in.kind = Incoming::Kind::kMessage;
      in.message = std::move(*m);
      st.inbound.push_back(std::move(in));
      st.message_costs.push_back(cost);
      break;
    }
    case FrameType::kData: {
      const size_t fd = f.flags;
      if (st.remote_fin) return violation(sid + ": data after fin");
      if (st.eof_in[fd]) return violation(sid + ": data after eof");
      if (len > st.recv_credit)
        return violation(sid + ": " + std::to_string(len) + " bytes sent with only " +
                         std::to_string(st.recv_credit) + " bytes of credit");
      st.recv_credit -= len;
      st.unconsumed += len;
      // Coalesce with the last chunk of the same fd if only data follows
      // it: at most 3 data items sit between two other items, so the queue
      // length stays bounded by messages, not by frame count.
      for (auto it = st.inbound.rbegin(); it != st.inbound.rend(); ++it) {
        if (it->kind != Incoming::Kind::kData) break;
        if (static_cast<size_t>(it->fd) == fd) {
          it->data.insert(it->data.end(), f.payload.begin(), f.payload.end());
          st.readable.notify();
          return ok_status();
        }
      }
      Incoming in;
      in.kind = Incoming::Kind::kData;
      in.fd = static_cast<StreamFd>(fd);
      in.data = std::move(f.payload);
      st.inbound.push_back(std::move(in));
      break;
    }
    case FrameType::kWindow: {
      const uint32_t inc = decode_window(f.payload, nullptr);
      if (inc == 0) return violation(sid + ": zero window increment");
      if (st.send_credit + inc > UINT32_MAX) return violation(sid + ": credit over 4 GiB");
      st.send_credit += inc;
      st.writable.notify();
      return ok_status();
    }
    case FrameType::kEof: {
      const size_t fd = f.flags;
      if (st.remote_fin) return violation(sid + ": eof after fin");
      if (st.eof_in[fd]) return violation(sid + ": second eof for fd " + std::to_string(fd));
      st.eof_in[fd] = true;
      Incoming in;
      in.kind = Incoming::Kind::kEof;
      in.fd = static_cast<StreamFd>(fd);
      st.inbound.push_back(std::move(in));
      break;
    }
    case FrameType::kFin:
      if (st.remote_fin) return violation(sid + ": second fin");
      st.remote_fin = true;
      st.readable.notify();
      maybe_forget(id);
      return ok_status();
    case FrameType::kReset:
      st.reset = true;
      st.reset_reason = "reset by peer: " + printable(f.payload);
      st.readable.notify();
      st.writable.notify();
      maybe_forget(id);
      return ok_status();
    case FrameType::kHello:
    case FrameType::kOpen:
      return violation(sid + ": unexpected frame");
  }
  st.readable.notify();
  return ok_status();
}

}  // namespace hull::wire
