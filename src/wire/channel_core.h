// Private to wire: the state behind Channel and Stream. Everything runs on one
// executor; no member is touched from another thread, so there are no locks.
// Wake-ups use steady_timers as condition variables: a waiter re-checks its
// condition in a loop and sleeps on a timer that never expires on its own;
// notify() cancels the wait. Single-threaded, so no wake-up can be lost
// between the check and the wait.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "wire/channel.h"

// HULL_TRY/HULL_ASSIGN for coroutines (which must co_return).
#define WIRE_CO_TRY(expr)                                  \
  do {                                                     \
    auto&& wire_try_r_ = (expr);                           \
    if (!wire_try_r_.ok()) co_return wire_try_r_.error();  \
  } while (0)
#define WIRE_CO_ASSIGN(decl, expr) WIRE_CO_ASSIGN_IMPL_(decl, expr, HULL_CONCAT_(wire_r_, __LINE__))
#define WIRE_CO_ASSIGN_IMPL_(decl, expr, tmp) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) co_return tmp.error();       \
  decl = std::move(tmp).value()

namespace hull::wire {

namespace asio = boost::asio;

class Wakeup {
 public:
  explicit Wakeup(const asio::any_io_executor& ex);
  asio::awaitable<void> wait();
  void notify() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

struct StreamState {
  explicit StreamState(const asio::any_io_executor& ex) : readable(ex), writable(ex) {}
  bool local = false;           // opened by us
  bool accepted = false;        // handed to the user (peer-opened streams)
  bool handle = false;          // a Stream object refers to it
  bool local_fin = false;       // we sent kFin
  bool remote_fin = false;      // peer sent kFin
  bool reset = false;           // either side reset it
  bool reset_locally = false;   // we did (Stream::reset or dropped)
  std::string reset_reason;
  uint64_t send_credit = kInitialWindow;  // bytes we may still send
  uint64_t recv_credit = 0;               // bytes the peer may still send
  uint64_t unconsumed = 0;                // data received, not yet consume()d
  std::array<bool, 3> eof_in{};           // per StreamFd, received
  std::array<bool, 3> eof_out{};          // per StreamFd, sent
  std::deque<Incoming> inbound;
  std::deque<uint32_t> message_costs;     // credit of each queued kMessage, in order
  Wakeup readable;  // inbound grew, or the stream/channel ended
  Wakeup writable;  // credit grew, or the stream/channel ended

  // Done: the id needs no more frames (both finished, or reset). Its slot is
  // free; the entry lives on only while a Stream handle still refers to it.
  bool done() const { return reset || (local_fin && remote_fin); }
};

class ChannelCore : public std::enable_shared_from_this<ChannelCore> {
 public:
  ChannelCore(asio::any_io_executor ex, UniqueFd fd, Channel::Side side, ChannelLimits limits);

  void start();  // spawns the writer; call once, right after make_shared
  asio::awaitable<Result<Hello>> handshake(const Hello& mine);
  asio::awaitable<Status> run();

  // Sending. Frames go to the write queue in call order, whole.
  Status enqueue(FrameType type, uint8_t flags, uint32_t stream, std::span<const std::byte> payload);
  // Suspends while the write queue is above its high-water mark, so a
  // producer cannot outrun the socket (user-driven frames only).
  asio::awaitable<Status> wait_for_room();
  // Encodes `m` and checks that it would pass the peer's decoder, so a bad
  // message is our caller's Error instead of the peer failing the channel.
  static Result<std::vector<std::byte>> encode_checked(const Message& m);

  asio::awaitable<Result<std::shared_ptr<Stream>>> open(const Message& request);
  asio::awaitable<Result<Channel::Accepted>> accept();
  asio::awaitable<Status> send_control(const Message& m);
  asio::awaitable<Result<Message>> receive_control();

  // Stream operations (by id; see Stream in channel.h).
  asio::awaitable<Incoming> receive(uint32_t id);
  asio::awaitable<Status> send_data(uint32_t id, StreamFd fd, std::span<const std::byte> bytes);
  asio::awaitable<Status> send_message(uint32_t id, const Message& m);
  asio::awaitable<Status> send_eof(uint32_t id, StreamFd fd);
  void consume(uint32_t id, size_t n);
  void reset(uint32_t id, const std::string& reason);
  void finish(uint32_t id);
  void release(uint32_t id);  // the Stream handle is gone

  // Graceful: refuse new work, wake everyone, flush what is queued, close.
  void close(const std::string& why);
  // Immediate: a violation or I/O error; run() returns `e`.
  void fail(Error e);
  bool is_open() const { return !closed_; }
  std::string failure() const { return reason_; }

 private:
  using Transport = std::variant<asio::generic::stream_protocol::socket,
                                 asio::posix::stream_descriptor>;

  asio::awaitable<void> writer();
  asio::awaitable<Status> read_more();  // one read into the decoder
  Result<bool> next_frame(std::optional<Frame>& out);
  Status dispatch(Frame f);
  void terminate(const std::string& why);  // close now, no flush
  void wake_all();
  Status on_open(Frame& f);
  Status on_stream_frame(Frame& f, StreamState& st);
  Status violation(const std::string& what);
  Error closed_error() const;
  StreamState* find(uint32_t id);
  // Whether a frame for an id we have no live entry for is a late frame for
  // a stream that existed (ignored) or for one that never did (violation).
  bool existed(uint32_t id) const;
  bool peer_parity(uint32_t id) const;
  size_t live_streams(bool local) const;
  Status grant(uint32_t id, StreamState& st, uint64_t n);
  void maybe_forget(uint32_t id);
  void shutdown_transport();
  Status stream_writable(uint32_t id, StreamState* st) const;

  asio::any_io_executor ex_;
  Transport io_;
  Channel::Side side_;
  ChannelLimits limits_;
  FrameDecoder decoder_;
  std::vector<std::byte> read_buf_;

  bool handshaken_ = false;
  bool closed_ = false;       // no new work; waiters wake with kClosed
  bool transport_closed_ = false;
  bool running_ = false;
  uint32_t window_;  // credit we grant per stream (>= kInitialWindow)
  asio::steady_timer flush_deadline_;
  std::optional<Error> error_;  // set by fail(): run() returns it
  std::string reason_;

  std::deque<std::vector<std::byte>> write_queue_;
  size_t write_queue_bytes_ = 0;
  Wakeup write_ready_;  // queue grew or the channel ended
  Wakeup write_room_;   // queue shrank or the channel ended

  std::map<uint32_t, std::unique_ptr<StreamState>> streams_;
  uint32_t next_local_id_;
  uint32_t last_peer_id_ = 0;
  std::deque<std::pair<uint32_t, Message>> accept_queue_;
  Wakeup acceptable_;
  std::deque<std::pair<Message, size_t>> control_queue_;  // message, payload bytes
  size_t control_queue_bytes_ = 0;
  Wakeup control_ready_;
};

}  // namespace hull::wire
