// What the egress proxy answers a sandboxed client: whole HTTP responses and
// SOCKS replies, as bytes ready to write.
//
// An agent reads these, so a refusal says what refused it and what would
// allow it, in plain text it can act on. Every error response closes the
// connection (Connection: close) and has an exact Content-Length. Every
// string put into one is made safe first: control bytes (CR and LF too),
// escape sequences and malformed UTF-8 become '?', and it is cut at
// kMaxResponseText bytes, so nothing a client or a rule wrote can add a
// header or end the head early.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hull::egress {

inline constexpr size_t kMaxResponseText = 1024;  // per interpolated string

// ---- HTTP ----

// The answer to CONNECT once the upstream connection is up; the tunnel starts
// right after it (no body, no Content-Length: RFC 9110 9.3.6).
std::string connect_established_response();

// 403: the policy refused `destination` ("evil.com:443"). `rule` is the rule
// that decided ("--deny *.evil.com", "the locked preset") and `how_to_allow`
// the exact flag that would allow it ("hull run --allow evil.com:443 ...");
// both come from the policy engine. Body:
//   hull: egress to evil.com:443 refused by --deny *.evil.com
//   to allow it: hull run --allow evil.com:443 ...
// (the second line only when `how_to_allow` is not empty).
std::string forbidden_response(std::string_view destination, std::string_view rule,
                               std::string_view how_to_allow);

// 400: the request was malformed or is not proxied; `why` says which and what to send instead.
std::string bad_request_response(std::string_view why);

// 431: the request head is over the proxy's limit (kMaxRequestHead).
std::string head_too_large_response();

// 502: the proxy could not reach `destination`; `why`: "connection refused", "no address" ...
std::string bad_gateway_response(std::string_view destination, std::string_view why);

// 504: `destination` did not answer within `waited` ("30 s").
std::string gateway_timeout_response(std::string_view destination, std::string_view waited);

// 429: this sandbox already has `limit` connections through the proxy (its
// own doing: it may retry when one closes; Retry-After: 1).
std::string too_many_connections_response(unsigned limit);

// 503: the proxy itself cannot take the request now (shutting down, out of memory budget).
std::string service_unavailable_response(std::string_view why);

// ---- SOCKS ----

// RFC 1928 section 6 reply codes (closed set).
enum class Socks5Reply : uint8_t {
  kSucceeded = 0x00,
  kGeneralFailure = 0x01,
  kNotAllowedByRuleset = 0x02,
  kNetworkUnreachable = 0x03,
  kHostUnreachable = 0x04,
  kConnectionRefused = 0x05,
  kTtlExpired = 0x06,
  kCommandNotSupported = 0x07,
  kAddressTypeNotSupported = 0x08,
};

// The 10-byte reply to a SOCKS5 request; the bound address is always
// 0.0.0.0:0 (the sandbox has no use for the host's address).
std::string socks5_reply(Socks5Reply code);

// Method selection: "no authentication" chosen, or none acceptable (then close).
std::string socks5_no_auth_selected();
std::string socks5_no_acceptable_method();

// The 8-byte SOCKS4 reply "request rejected or failed" (91).
std::string socks4_rejected();

}  // namespace hull::egress
