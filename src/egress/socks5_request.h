// The SOCKS5 side of ProxyRequestParser (RFC 1928): no authentication, CONNECT
// only. It drives the two-step exchange: the greeting's method-selection reply
// comes back in a step's `reply` (kNeedMore, or with the outcome when the
// client sent its request without waiting), then the request is parsed.
// Refusals carry the reply RFC 1928 has for them (0xFF method, 0x07 command,
// 0x08 address type, 0x01 otherwise).
#pragma once

#include <string>
#include <string_view>

#include "egress/proxy_request.h"

namespace hull::egress {

// The longest message: VER CMD RSV ATYP LEN 255-byte-name PORT.
inline constexpr size_t kMaxSocks5Message = 4 + 1 + 255 + 2;

class Socks5Parser {
 public:
  ParseStep feed(std::string_view bytes);  // the contract of ProxyRequestParser::feed

 private:
  enum class Stage { kGreeting, kRequest };
  Stage stage_ = Stage::kGreeting;
  std::string message_;  // the current message's bytes so far, at most kMaxSocks5Message
};

}  // namespace hull::egress
