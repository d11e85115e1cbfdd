// Channel: multiplexed, flow-controlled streams over one connected byte
// stream (socketpair, unix socket, virtio-serial). Used by hull-agent, the
// supervisor (towards the agent AND towards each CLI client) and the CLI.
//
// Usage, on one asio::io_context (single-threaded; no locking inside):
//   1. Channel ch(ex, std::move(fd), Channel::Side::kInitiator);
//   2. co_await ch.handshake(Hello{...})     — exchange Hello, check version
//   3. co_spawn(ex, ch.run(), ...)           — the read loop; ends with why
//   4. open()/accept() streams; send_*/receive() on them; control messages
//      via send_control()/receive_control()
//   5. close() (or peer EOF) cancels every pending operation.
//
// COMPILER BUG (GCC 12, Debian 12's default): a brace-initialized aggregate
// temporary inside a co_await expression is destroyed twice and crashes:
//     co_await s->send_message(ExecExit{0, 0, false, {}, ""});   // CRASHES
// Name it first, or build it in a function (clang is fine either way):
//     ExecExit exit{...};  co_await s->send_message(exit);       // ok
//
// Arguments are read before the first suspension, except send_data's bytes,
// which must stay alive until the co_await completes.
//
// Flow control: each stream starts with kInitialWindow bytes of credit in
// each direction. send_data() suspends until the peer has granted credit
// (backpressure reaches the producer). Received data is NOT credited back
// automatically: call Stream::consume(n) once the bytes are truly gone (e.g.
// written to the next hop) — that is what bounds a relay's memory to one
// window per stream. A peer that sends beyond its credit, sends a malformed
// frame, or floods messages fails the whole channel (run() returns the Error).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"
#include "wire/frame.h"
#include "wire/messages.h"

namespace hull::wire {

struct ChannelLimits {
  // Credit we grant the peer per stream. The protocol starts every stream at
  // kInitialWindow; a larger value is granted with a kWindow right at open.
  // Values below kInitialWindow are treated as kInitialWindow.
  uint32_t initial_window = kInitialWindow;
  size_t max_streams = 256;  // streams the PEER may have open at once (and our own open() limit)
  // false: the peer may not open streams at all; its first kOpen is a
  // protocol violation, before anything is buffered for it. (The supervisor
  // holds its agent to this: every stream is the host's to start.)
  bool peer_may_open = true;
  // Stream 0: control messages received but not yet receive_control()ed.
  // (Other streams are bounded by credit: window / kMessageCredit messages.)
  size_t max_queued_messages = 1024;
  size_t max_queued_control_bytes = 1u << 20;  // stream 0, payload bytes
  // Unsent frames. send_*() wait while it is over half full; frames the
  // channel must send on its own (kWindow, kReset) beyond it mean the peer is
  // not reading: the channel fails.
  size_t max_write_queue_bytes = 8u << 20;
};

// What Stream::receive() yields.
struct Incoming {
  // kClosed: the channel is gone, or the peer sent kFin on this stream
  // ("stream finished by peer"); either way nothing more will arrive.
  enum class Kind { kMessage, kData, kEof, kReset, kClosed };
  Kind kind = Kind::kClosed;
  Message message;               // kMessage
  StreamFd fd = StreamFd::kStdin;  // kData, kEof
  std::vector<std::byte> data;   // kData
  std::string reason;            // kReset, kClosed
};

class ChannelCore;  // implementation detail shared by Channel and Stream

class Stream {
 public:
  uint32_t id() const;
  // Next message/data/eof on this stream, in arrival order. kClosed once the
  // channel is gone; kReset if the peer aborted the stream.
  boost::asio::awaitable<Incoming> receive();
  // Suspends until credit allows; splits into kMaxPayload frames.
  boost::asio::awaitable<Status> send_data(StreamFd fd, std::span<const std::byte> bytes);
  boost::asio::awaitable<Status> send_message(const Message& m);
  boost::asio::awaitable<Status> send_eof(StreamFd fd);
  // Grant the peer `n` more bytes of credit (we consumed n received bytes).
  void consume(size_t n);
  // Abort: tells the peer (kReset) and frees the stream id.
  void reset(const std::string& reason);
  // Finished normally from our side (after the final message); frees the id
  // once the peer has also finished or reset.
  void finish();

  Stream(std::shared_ptr<ChannelCore> core, uint32_t id);
  ~Stream();

 private:
  std::shared_ptr<ChannelCore> core_;
  uint32_t id_;
};

class Channel {
 public:
  enum class Side { kInitiator, kResponder };  // initiator opens odd stream ids

  Channel(boost::asio::any_io_executor ex, UniqueFd fd, Side side, ChannelLimits limits = {});
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  boost::asio::awaitable<Result<Hello>> handshake(const Hello& mine);
  // Read loop. Returns ok on clean peer EOF, the Error on a violation.
  boost::asio::awaitable<Status> run();

  boost::asio::awaitable<Result<std::shared_ptr<Stream>>> open(const Message& request);
  struct Accepted {
    std::shared_ptr<Stream> stream;
    Message request;
  };
  // Next stream the peer opened; Error once the channel is closed.
  boost::asio::awaitable<Result<Accepted>> accept();

  boost::asio::awaitable<Status> send_control(const Message& m);
  // Next stream-0 message from the peer; Error once the channel is closed.
  boost::asio::awaitable<Result<Message>> receive_control();

  void close(const std::string& why = "closed");
  bool is_open() const;
  // Why the channel failed, for the supervisor's report (empty while fine).
  std::string failure() const;

 private:
  std::shared_ptr<ChannelCore> core_;
};

// Whether a channel error came from the byte stream itself (EOF mid-frame
// excluded: that is a violation) rather than from what the peer sent — a
// peer that died looks like this, a peer that lied does not.
bool is_transport_error(const Error& e);

}  // namespace hull::wire
