// The link between a supervisor and its egress process: one SOCK_SEQPACKET
// socketpair, so every message keeps its boundary. Each message is one
// JSON document (at most kMaxLinkMessage bytes); a message may carry one fd
// (SCM_RIGHTS): the supervisor hands over each sandbox connection that way.
//
//   supervisor → egress   {"config": ...} once, then {"conn": ...} + fd
//   egress → supervisor   {"event": ...} (one per connection, and notes)
#pragma once

#include <cstddef>
#include <string>

#include "base/fd.h"
#include "base/result.h"

namespace hull::egress {

inline constexpr size_t kMaxLinkMessage = 64 * 1024;

// Blocking or not as the socket is; EAGAIN comes back as an Error with err
// EAGAIN so that an asio caller can wait for readiness and retry.
Status send_link_message(int socket, const std::string& json, int fd_to_pass = -1);

struct LinkMessage {
  std::string json;
  UniqueFd fd;  // the passed fd, if any
};
// An empty json with no error means the peer closed the link. A message
// with more than one fd, or truncated, is an error (the extra fds closed).
Result<LinkMessage> receive_link_message(int socket);

}  // namespace hull::egress
