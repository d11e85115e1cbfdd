// Frame codec. The decoder is the first code that touches guest bytes, so it
// validates a header completely before it looks at (or buffers for) the
// payload, and never sizes anything from an unvalidated length.
#include "wire/frame.h"

#include <cassert>
#include <cstring>
#include <string>

namespace hull::wire {
namespace {

void put_u32(std::byte* p, uint32_t v) {
  p[0] = std::byte(v >> 24);
  p[1] = std::byte(v >> 16);
  p[2] = std::byte(v >> 8);
  p[3] = std::byte(v);
}

uint32_t get_u32(const std::byte* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

Error violation(const std::string& what) { return make_error("invalid frame", what); }

// Closed set of frame types: a switch without default makes the compiler list
// this function when a type is added.
std::optional<FrameType> to_frame_type(uint8_t raw) {
  auto t = static_cast<FrameType>(raw);
  switch (t) {
    case FrameType::kHello:
    case FrameType::kOpen:
    case FrameType::kMessage:
    case FrameType::kData:
    case FrameType::kWindow:
    case FrameType::kEof:
    case FrameType::kReset:
    case FrameType::kFin:
      return t;
  }
  return std::nullopt;
}

}  // namespace

void append_frame(std::vector<std::byte>& out, FrameType type, uint8_t flags, uint32_t stream,
                  std::span<const std::byte> payload) {
  assert(payload.size() <= kMaxPayload && "frame payload over kMaxPayload");
  size_t at = out.size();
  out.resize(at + kHeaderSize + payload.size());
  std::byte* h = out.data() + at;
  put_u32(h, static_cast<uint32_t>(payload.size()));
  h[4] = std::byte(static_cast<uint8_t>(type));
  h[5] = std::byte(flags);
  h[6] = std::byte{0};
  h[7] = std::byte{0};
  put_u32(h + 8, stream);
  if (!payload.empty()) std::memcpy(h + kHeaderSize, payload.data(), payload.size());
}

std::vector<std::byte> encode_frame(const Frame& f) {
  std::vector<std::byte> out;
  out.reserve(kHeaderSize + f.payload.size());
  append_frame(out, f.type, f.flags, f.stream, f.payload);
  return out;
}

Result<Frame> parse_header(std::span<const std::byte, kHeaderSize> h, uint32_t* length_out) {
  const uint32_t length = get_u32(h.data());
  const uint8_t raw_type = static_cast<uint8_t>(h[4]);
  const uint8_t flags = static_cast<uint8_t>(h[5]);
  const uint16_t reserved = static_cast<uint16_t>((uint16_t(h[6]) << 8) | uint16_t(h[7]));
  const uint32_t stream = get_u32(h.data() + 8);

  if (length > kMaxPayload)
    return violation("payload length " + std::to_string(length) + " exceeds " +
                     std::to_string(kMaxPayload));
  auto type = to_frame_type(raw_type);
  if (!type) return violation("unknown frame type " + std::to_string(raw_type));
  if (reserved != 0) return violation("reserved header bits set");

  // Per-type rules. Each case states everything about its header so that a
  // reader can check one type at a glance.
  const std::string where = " (type " + std::to_string(raw_type) + ", stream " +
                            std::to_string(stream) + ")";
  bool fd_flags = false;
  switch (*type) {
    case FrameType::kHello:
      if (stream != 0) return violation("hello on a stream other than 0" + where);
      break;
    case FrameType::kMessage:
      break;
    case FrameType::kOpen:
    case FrameType::kFin:
      if (stream == 0) return violation("stream frame on stream 0" + where);
      if (*type == FrameType::kFin && length != 0) return violation("fin with a payload" + where);
      break;
    case FrameType::kData:
      if (stream == 0) return violation("data on stream 0" + where);
      // An empty data frame carries nothing but would still cost a queue
      // slot at the receiver; refusing it keeps queues bounded by credit.
      if (length == 0) return violation("empty data frame" + where);
      fd_flags = true;
      break;
    case FrameType::kEof:
      if (stream == 0) return violation("eof on stream 0" + where);
      if (length != 0) return violation("eof with a payload" + where);
      fd_flags = true;
      break;
    case FrameType::kWindow:
      if (stream == 0) return violation("window on stream 0" + where);
      if (length != 4) return violation("window payload is not 4 bytes" + where);
      break;
    case FrameType::kReset:
      if (stream == 0) return violation("reset on stream 0" + where);
      if (length > kMaxResetReason) return violation("reset reason over 1 KiB" + where);
      break;
  }
  if (fd_flags ? flags > static_cast<uint8_t>(StreamFd::kStderr) : flags != 0)
    return violation("invalid flags " + std::to_string(flags) + where);

  if (length_out) *length_out = length;
  Frame f;
  f.type = *type;
  f.flags = flags;
  f.stream = stream;
  return f;
}

void FrameDecoder::feed(std::span<const std::byte> bytes) {
  if (failed_ || bytes.empty()) return;  // a dead stream buffers nothing more
  // Compact before growing so the buffer holds at most one partial frame plus
  // what the caller fed since the last next() round.
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

std::optional<Result<Frame>> FrameDecoder::next() {
  if (failed_) return Result<Frame>(*failed_);
  if (buffered() < kHeaderSize) return std::nullopt;
  std::span<const std::byte, kHeaderSize> header(buf_.data() + pos_, kHeaderSize);
  uint32_t length = 0;
  auto parsed = parse_header(header, &length);
  if (!parsed) {
    failed_ = parsed.error();
    buf_.clear();
    buf_.shrink_to_fit();
    pos_ = 0;
    return Result<Frame>(*failed_);
  }
  if (buffered() - kHeaderSize < length) return std::nullopt;  // wait for the payload
  const std::byte* p = buf_.data() + pos_ + kHeaderSize;
  parsed->payload.assign(p, p + length);  // length already checked <= kMaxPayload
  pos_ += kHeaderSize + length;
  return parsed;
}

uint32_t decode_window(std::span<const std::byte> payload, bool* ok) {
  const bool good = payload.size() == 4;
  if (ok) *ok = good;
  return good ? get_u32(payload.data()) : 0;
}

std::vector<std::byte> encode_window(uint32_t increment) {
  std::vector<std::byte> out(4);
  put_u32(out.data(), increment);
  return out;
}

}  // namespace hull::wire
