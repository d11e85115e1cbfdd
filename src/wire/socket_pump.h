// Pumps one channel stream to and from one connected socket (either end of
// an egress connection: the agent's accepted TCP client, the supervisor's
// socketpair to the egress process).
//
// Directions: bytes read from the socket go out as `out` data on the
// stream; `in` data from the stream is written to the socket. A socket EOF
// becomes send_eof(out); the peer's EOF on `in` becomes shutdown(SHUT_WR).
// The pump ends when both directions have ended (then the stream is
// finish()ed), or at the first error, reset or unexpected frame (then the
// stream is reset and the socket closed).
//
// Memory: one read buffer per direction. Received data is consume()d only
// once the socket has taken it, so a fast peer is held to one window.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "wire/channel.h"

namespace hull::wire {

struct PumpResult {
  uint64_t bytes_out = 0;  // socket → stream
  uint64_t bytes_in = 0;   // stream → socket
  // Empty when both directions ended cleanly; else why the pump stopped.
  std::string aborted;
  // The peer broke the stream's rules (a message, data on the wrong fd):
  // the caller decides whether that is a violation.
  bool peer_misbehaved = false;
};

// `socket` is owned by the pump (closed when it returns).
boost::asio::awaitable<PumpResult> pump_socket(std::shared_ptr<Stream> stream,
                                               boost::asio::posix::stream_descriptor socket,
                                               StreamFd out, StreamFd in);

}  // namespace hull::wire
