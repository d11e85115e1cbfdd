// Frames: the unit on the channel between host and agent (and between the CLI
// and a supervisor, which speak the same protocol). See docs/protocol.md.
//
// Layout (big-endian), 12-byte header + payload:
//   u32 length   payload bytes, <= kMaxPayload
//   u8  type     FrameType
//   u8  flags    for kData/kEof: the StreamFd; otherwise 0
//   u16 reserved must be 0
//   u32 stream   0 = control stream; odd = opened by the initiator side
//                (host/CLI), even = opened by the responder side (agent)
//
// Every byte from a guest is hostile: FrameDecoder rejects a frame the moment
// its header is invalid (oversized length, unknown type, bad flags), before
// buffering its payload, so a "4 GiB frame" costs the host 12 bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace hull::wire {

inline constexpr uint32_t kProtocolVersion = 1;
inline constexpr size_t kHeaderSize = 12;
inline constexpr uint32_t kMaxPayload = 64 * 1024;
// Credit each side grants per stream at open; data beyond granted credit is a
// protocol violation.
inline constexpr uint32_t kInitialWindow = 256 * 1024;
inline constexpr uint32_t kMaxResetReason = 1024;
// A kMessage on a stream other than 0 costs max(payload, kMessageCredit) of the
// stream's credit (returned when the receiver takes it), so a window bounds
// both the bytes and the number of messages queued for a slow receiver.
inline constexpr uint32_t kMessageCredit = 4096;

enum class FrameType : uint8_t {
  kHello = 1,    // stream 0 only; payload: Hello (JSON)
  kOpen = 2,     // opens `stream`; payload: the request message (JSON)
  kMessage = 3,  // typed message (JSON) on an open stream, or on stream 0
  kData = 4,     // raw bytes for flags=StreamFd; counts against credit
  kWindow = 5,   // payload: u32 credit increment for `stream`
  kEof = 6,      // no more data for flags=StreamFd on `stream`; empty payload
  kReset = 7,    // abort `stream`; payload: UTF-8 reason, <= kMaxResetReason
  kFin = 8,      // sender is done with `stream` (sends nothing more but kWindow/kReset);
                 // empty payload. The id is free once both sides sent kFin (or a kReset).
};

// Which byte stream of an exec/file stream a kData/kEof frame belongs to.
enum class StreamFd : uint8_t {
  kStdin = 0,   // host → agent (also: file content being written)
  kStdout = 1,  // agent → host (also: file content being read, PTY output)
  kStderr = 2,  // agent → host
};

struct Frame {
  FrameType type{};
  uint8_t flags = 0;
  uint32_t stream = 0;
  std::vector<std::byte> payload;
};

// Credit charged for one kMessage payload of `len` bytes on a stream != 0.
inline constexpr uint32_t message_credit(size_t len) {
  return len > kMessageCredit ? static_cast<uint32_t>(len) : kMessageCredit;
}

// Encode header+payload; payload must be <= kMaxPayload (programmer error otherwise).
std::vector<std::byte> encode_frame(const Frame& f);
void append_frame(std::vector<std::byte>& out, FrameType type, uint8_t flags, uint32_t stream,
                  std::span<const std::byte> payload);

// Incremental decoder for an untrusted byte stream. Usage:
//   dec.feed(bytes); while (auto f = dec.next()) { if (!*f) fatal; use **f }
// Once it reports an error it stays failed.
class FrameDecoder {
 public:
  void feed(std::span<const std::byte> bytes);
  // nullopt: need more bytes. Error: protocol violation (stream is dead).
  std::optional<Result<Frame>> next();
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::vector<std::byte> buf_;
  size_t pos_ = 0;
  std::optional<Error> failed_;
};

// Validates one header (exposed for tests and the fuzzer).
Result<Frame> parse_header(std::span<const std::byte, kHeaderSize> h, uint32_t* length_out);

uint32_t decode_window(std::span<const std::byte> payload, bool* ok);
std::vector<std::byte> encode_window(uint32_t increment);

}  // namespace hull::wire
