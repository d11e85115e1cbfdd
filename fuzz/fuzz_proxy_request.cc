// Fuzz the egress proxy's request parsing: the opening bytes of a sandbox's
// connection (HTTP proxy request or SOCKS5 exchange), then, for a forwarded
// request, its body framing. Input: byte 0 picks the opening (bit 0: next
// request on a kept-alive connection), bytes 1-2 a split point (and, read
// the other way round, one in the body), the rest is what the client sent.
// Properties: never crashes; the outcome is the same fed whole or cut at the
// split point (kind, replies, where the request ends, the request, the
// reason); no step consumes more than it was fed; a refusal's HTTP response
// has an exact Content-Length; an upstream head has only CRLF-ended lines;
// the body framer ends at the same byte however cut, forwards the client's
// bytes unchanged, and all of them once the body is finished.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "egress/proxy_request.h"
#include "egress/request_body.h"
#include "egress/upstream_head.h"

using namespace hull::egress;

namespace {

void check(bool ok) {
  if (!ok) abort();
}

struct Outcome {
  ParseStep::Kind kind = ParseStep::Kind::kNeedMore;
  std::string reply;
  size_t end = 0;
  std::optional<ProxyRequest> request;
  std::string refusal;
  bool operator==(const Outcome&) const = default;
};

Outcome parse(std::string_view bytes, size_t cut, Opening opening) {
  ProxyRequestParser parser(opening);
  Outcome out;
  size_t at = 0;
  for (size_t end : {cut, bytes.size()}) {
    ParseStep s = parser.feed(bytes.substr(at, end - at));
    check(s.consumed <= end - at);
    out.reply += s.reply;
    out.kind = s.kind;
    if (s.kind == ParseStep::Kind::kDone) {
      check(s.request.has_value() && !s.refusal);
      out.end = at + s.consumed;
      out.request = s.request;
      return out;
    }
    if (s.kind == ParseStep::Kind::kRefused) {
      check(s.refusal.has_value() && !s.request);
      out.refusal = s.refusal->message();
      return out;
    }
    check(s.consumed == end - at);
    at = end;
  }
  return out;
}

struct Framed {
  bool ok = true;
  bool finished = false;
  size_t end = 0;
  std::string upstream;
  bool operator==(const Framed&) const = default;
};

Framed frame(const ProxyRequest& r, std::string_view bytes, size_t cut) {
  RequestBodyFramer framer(r);
  Framed out;
  size_t at = 0;
  for (size_t end : {cut, bytes.size()}) {
    auto p = framer.feed(bytes.substr(at, end - at), out.upstream);
    if (!p.ok()) return Framed{false, false, 0, {}};
    check(p->used <= end - at);
    out.end = at + p->used;
    check(out.upstream == bytes.substr(0, out.upstream.size()));
    if (p->finished) {
      out.finished = true;
      check(out.upstream == bytes.substr(0, out.end));
      return out;
    }
    check(p->used == end - at);
    at = end;
  }
  return out;
}

void check_http_response(std::string_view reply) {
  size_t head_end = reply.find("\r\n\r\n");
  check(head_end != std::string_view::npos);
  const std::string_view kLength = "\r\nContent-Length: ";
  size_t at = reply.find(kLength);
  check(at != std::string_view::npos && at < head_end);
  size_t length =
      std::strtoul(std::string(reply.substr(at + kLength.size(), 12)).c_str(), nullptr, 10);
  check(length == reply.size() - head_end - 4);
}

void check_lines(std::string_view head) {
  check(head.size() >= 4 && head.substr(head.size() - 4) == "\r\n\r\n");
  check(head.find("\r\n\r\n") == head.size() - 4);
  for (size_t i = 0; i < head.size(); ++i) {
    check(head[i] != '\0');
    if (head[i] == '\r') check(i + 1 < head.size() && head[i + 1] == '\n');
    if (head[i] == '\n') check(i > 0 && head[i - 1] == '\r');
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const Opening opening = (data[0] & 1) ? Opening::kNextHttpRequest : Opening::kNewConnection;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 3), size - 3);
  const size_t cut = (size_t{data[1]} << 8 | data[2]) % (bytes.size() + 1);

  const Outcome whole = parse(bytes, bytes.size(), opening);
  const Outcome split = parse(bytes, cut, opening);
  check(whole == split);

  if (whole.kind == ParseStep::Kind::kRefused && whole.reply.starts_with("HTTP/"))
    check_http_response(whole.reply);
  if (whole.kind != ParseStep::Kind::kDone) return 0;

  const ProxyRequest& r = *whole.request;
  check(!r.destination.host.empty() && r.destination.port != 0);
  if (r.protocol != ProxyProtocol::kHttpForward) return 0;
  check_lines(upstream_request_head(r));

  const std::string_view rest = bytes.substr(whole.end);
  const size_t body_cut = (size_t{data[2]} << 8 | data[1]) % (rest.size() + 1);
  check(frame(r, rest, rest.size()) == frame(r, rest, body_cut));
  return 0;
}
