// The host as a client wrote it (URL host, CONNECT target, Host header,
// SOCKS5 domain), normalised once before any rule sees it, so that a rule
// and a request about the same host always compare equal and no spelling of
// a host slips past a rule written another way.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "policy/net_address.h"

namespace hull::policy {

struct NormalizedHost {
  // A name in A-label form ("xn--mnchen-3ya.de"), or for an IP literal its
  // canonical text as a URL writes it ("127.0.0.1", "[::1]").
  std::string text;
  std::optional<NetAddress> address;  // set when the host is an IP literal

  bool is_address() const { return address.has_value(); }
  bool operator==(const NormalizedHost&) const = default;
};

// Steps, in order:
//  1. refuse what a host never contains and a parser confusion needs:
//     userinfo '@', '\', '#', '/', '?', '%', ':' (the port is passed apart),
//     spaces and control bytes; over 1024 bytes;
//  2. `[...]` is an IPv6 literal (zone ids refused);
//  3. ASCII lower case; labels with non-ASCII go through IDNA (UTS #46,
//     non-transitional, libidn2) to punycode; ASCII labels are left as they
//     are (IDNA's hyphen rules would refuse real hosts such as
//     r3---sn-x.googlevideo.com);
//  4. one trailing dot removed;
//  5. an IP literal in any encoding (`127.1`, `0x7f000001`, fullwidth digits
//     after IDNA) becomes an address, never a name; a name whose last label
//     is numeric but is no valid address is refused;
//  6. a name: labels non-empty, at most 63 bytes, [a-z0-9-_] only (real
//     hosts use '_'), at most 253 bytes in all.
// normalize_host(x.text) == x for every x it returns.
Result<NormalizedHost> normalize_host(std::string_view raw);

}  // namespace hull::policy
