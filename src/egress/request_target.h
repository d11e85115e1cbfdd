// Where a proxy request goes, parsed from text a hostile sandbox wrote: a
// CONNECT target ("host:port"), an absolute-form URL
// ("http://host[:port]/path?query") and a Host header.
//
// The host is kept as written (not lower-cased, no IDNA): the policy
// normalises it once, in one place. Here it is only bounded and checked for
// bytes no DNS name or IP literal has, so nothing downstream ever sees a CR,
// NUL, space, backslash, '@', '/' or ':' in a host.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace hull::egress {

inline constexpr size_t kMaxHostLength = 255;  // a DNS name's limit

struct Authority {
  std::string host;  // as written; an IPv6 literal keeps its brackets: "[::1]"
  uint16_t port = 0;
  bool operator==(const Authority&) const = default;
};

// "host:port" (CONNECT's request-target): the port is required.
Result<Authority> parse_connect_target(std::string_view target);

struct AbsoluteTarget {
  Authority authority;      // port 80 when the URL names none
  std::string origin_form;  // "/path?query" as written, "/" at least: what the origin is sent
};

// An absolute-form request-target. Only http:// (https:// is refused with a
// pointer to CONNECT); no userinfo, no fragment.
Result<AbsoluteTarget> parse_absolute_target(std::string_view target);

// A Host header's value; a missing port means `default_port`.
Result<Authority> parse_host_header(std::string_view value, uint16_t default_port);

// Both name the same place: hosts equal ignoring ASCII case, ports equal.
bool same_authority(const Authority& a, const Authority& b);

// A host that may be passed on: 1..255 bytes of letters, digits, "-._~%" and
// UTF-8 bytes (>= 0x80; the policy applies IDNA), or a bracketed IPv6
// literal without a zone id.
Status check_host(std::string_view host);

// "host:port", for messages and logs.
std::string authority_text(const Authority& a);

}  // namespace hull::egress
