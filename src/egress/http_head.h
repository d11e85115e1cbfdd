// The HTTP side of ProxyRequestParser: one proxy request head, parsed by
// Boost.Beast, then held to the proxy's own rules (http_head.cc lists them).
#pragma once

#include <string>
#include <string_view>

#include "egress/proxy_request.h"

namespace hull::egress {

class HttpHeadParser {
 public:
  ParseStep feed(std::string_view bytes);  // the contract of ProxyRequestParser::feed

 private:
  std::string head_;  // the head's bytes so far, at most kMaxRequestHead
  bool request_line_seen_ = false;
};

}  // namespace hull::egress
