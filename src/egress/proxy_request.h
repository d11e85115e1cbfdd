// The opening bytes of one connection to the in-sandbox proxy listener
// (127.0.0.1:3128), parsed on the host: an HTTP proxy request (CONNECT or an
// absolute-form request) or a SOCKS5 exchange, told apart by the first byte.
// Every byte comes from a hostile sandbox, so everything is bounded: an HTTP
// head is at most kMaxRequestHead bytes, a SOCKS5 message at most 262.
//
// Usage, one parser per request:
//   1. ProxyRequestParser p;   (Opening::kNextHttpRequest for the next request
//                               on a kept-alive HTTP connection)
//   2. for each read: ParseStep s = p.feed(bytes);
//        write s.reply to the client first, whatever s.kind is, then
//        kNeedMore: read more and feed again (all of `bytes` was taken);
//        kDone:     s.request is the request; bytes[s.consumed..] were not
//                   part of it: they start the body (forward request) or the
//                   tunnelled data (CONNECT, SOCKS5);
//        kRefused:  s.reply is the refusal (may be empty: just close); close
//                   the connection; s.refusal says why, for the network log.
//   3. After kDone or kRefused the parser is finished: feed() no more.
// Feeding the same bytes in any chunks gives the same steps, joined (the
// fuzz target fuzz_proxy_request checks it).
//
// SOCKS4 (first byte 0x04) is refused with a SOCKS4 "request rejected" reply
// (91): a SOCKS4 client reads it as a refusal, where HTTP text would be
// garbage to it. The reason in the log names SOCKS5.
// A TLS ClientHello straight at the listener (first byte 0x16: HTTPS_PROXY set
// to an https:// URL) is closed without a reply; the log says what to set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "egress/request_target.h"

namespace hull::egress {

inline constexpr size_t kMaxRequestHead = 16 * 1024;

enum class ProxyProtocol {
  kHttpConnect,  // CONNECT host:port HTTP/1.1: a tunnel after "200 Connection established"
  kHttpForward,  // GET http://host/path HTTP/1.1: forwarded to the origin in origin-form
  kSocks5,       // SOCKS5 CONNECT: a tunnel after a success reply
};

// How the proxy finds the end of a forwarded request's body (RequestBodyFramer).
enum class BodyFraming { kNone, kContentLength, kChunked };

struct HeaderField {
  std::string name;   // as sent (a token: no CR, LF, NUL, ':' or space)
  std::string value;  // leading/trailing whitespace removed; no CR, LF or NUL
  bool operator==(const HeaderField&) const = default;
};

struct ProxyRequest {
  ProxyProtocol protocol = ProxyProtocol::kHttpConnect;
  std::string method;         // the client's ("GET", "POST", ...); "CONNECT" for CONNECT and SOCKS5
  Authority destination;      // host as written (see request_target.h) and port
  std::string origin_form;    // kHttpForward: "/path?query" for L7 rules and upstream; else ""
  std::string host_header;    // HTTP: the Host header as sent ("" if none); it names `destination`
  unsigned http_version = 0;  // HTTP: 10 or 11; SOCKS5: 0
  bool keep_alive = false;    // kHttpForward: another request may follow on this connection
  BodyFraming body = BodyFraming::kNone;
  uint64_t content_length = 0;      // kContentLength: the body's size in bytes
  std::vector<HeaderField> fields;  // HTTP: every header field, in order
  bool operator==(const ProxyRequest&) const = default;
};

struct ParseStep {
  enum class Kind { kNeedMore, kDone, kRefused };
  Kind kind = Kind::kNeedMore;
  std::string reply;    // bytes to write to the client now
  size_t consumed = 0;  // kDone: leading bytes of this feed that ended the request; kNeedMore: all
  std::optional<ProxyRequest> request;  // kDone
  std::optional<Error> refusal;         // kRefused: why (operator-facing, no raw client bytes)
};

enum class Opening {
  kNewConnection,    // first byte decides: 0x05 SOCKS5, 0x04 SOCKS4 (refused), else HTTP
  kNextHttpRequest,  // after a kept-alive request's body: HTTP only
};

class HttpHeadParser;
class Socks5Parser;

class ProxyRequestParser {
 public:
  explicit ProxyRequestParser(Opening opening = Opening::kNewConnection);
  ~ProxyRequestParser();
  ProxyRequestParser(ProxyRequestParser&&) noexcept;
  ProxyRequestParser& operator=(ProxyRequestParser&&) noexcept;

  ParseStep feed(std::string_view bytes);

 private:
  Opening opening_;
  bool finished_ = false;
  std::unique_ptr<HttpHeadParser> http_;
  std::unique_ptr<Socks5Parser> socks5_;
};

}  // namespace hull::egress
