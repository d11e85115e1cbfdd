// HTTP proxy request heads. Beast does the HTTP/1.1 grammar; on top of it the
// proxy refuses what would let a request mean one thing here and another
// upstream, or name one place to the policy and reach another:
//   - origin-form and asterisk-form targets (this is a proxy), https:// in
//     the request line (CONNECT keeps TLS end to end), userinfo, fragments;
//   - a Host header that names another place than the target, or two of them
//     (domain fronting);
//   - Transfer-Encoding with Content-Length, either one twice, a
//     Transfer-Encoding other than exactly "chunked", a Content-Length that is
//     not plain digits (request smuggling: the proxy and the origin must see
//     the body end at the same byte);
//   - obs-fold (Beast would join the lines; an origin might not);
//   - a CONNECT with a body.
//
// Chunking invariance: Beast's incremental mode keeps hints between calls
// (skip_) that change which error it reports first, and its header limit
// counts per call. So each run is a fresh parser over complete lines from the
// start of the head, and runs happen only at points the bytes define: when
// the request line ends (a bad one is refused at once), when the head ends
// (the first empty line) and when the limit is hit. Beast reads left to right,
// so an earlier run can only find what the later one would find first: the
// outcome never depends on how the bytes were cut, and the work is at most
// three parses of 16 KiB, not one per line (a head of 2,000 short fields fed
// line by line would otherwise cost seconds).
#include "egress/http_head.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <cassert>

#include "egress/proxy_responses.h"

namespace hull::egress {
namespace {

namespace http = boost::beast::http;
using HeadParser = http::request_parser<http::empty_body>;

ParseStep refuse(std::string why) {
  ParseStep s;
  s.kind = ParseStep::Kind::kRefused;
  s.reply = bad_request_response(why);
  s.refusal = make_error("proxy request", std::move(why));
  return s;
}

ParseStep refuse_too_large() {
  ParseStep s;
  s.kind = ParseStep::Kind::kRefused;
  s.reply = head_too_large_response();
  s.refusal = make_error("proxy request", "the request head is over 16 KiB");
  return s;
}

// A ClientHello at a plain proxy port: HTTP text would be garbage to a TLS
// client, so it gets none; the log says what the client should have set.
ParseStep refuse_tls() {
  ParseStep s;
  s.kind = ParseStep::Kind::kRefused;
  s.refusal = make_error("proxy request",
                         "TLS sent straight to the proxy, which speaks plain HTTP and SOCKS5: set "
                         "HTTPS_PROXY=http://127.0.0.1:3128 (http://, not https://)");
  return s;
}

// RFC 9110 tchar: what a method may start with.
bool is_tchar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string beast_reason(const boost::beast::error_code& ec) {
  using E = http::error;
  if (ec == E::bad_version)
    return "the request line must end in HTTP/1.1 (or HTTP/1.0) and CRLF; no other version is "
           "proxied";
  if (ec == E::bad_target) return "the request-target has a space, a control byte or a NUL";
  if (ec == E::bad_method) return "the method is not a token";
  if (ec == E::bad_field) return "a header field name is malformed";
  if (ec == E::bad_value) return "a header field value has a control byte (CR, LF, NUL)";
  if (ec == E::bad_line_ending) return "lines must end in CRLF";
  if (ec == E::bad_content_length)
    return "Content-Length is malformed or comes with Transfer-Encoding (request smuggling)";
  if (ec == E::multiple_content_length) return "Content-Length is given twice (request smuggling)";
  if (ec == E::bad_transfer_encoding)
    return "Transfer-Encoding comes twice or with Content-Length (request smuggling)";
  return "the request head is malformed (" + ec.message() + ")";
}

Status check_no_obs_fold(std::string_view head) {
  for (size_t i = 0; i + 1 < head.size(); ++i)
    if (head[i] == '\n' && (head[i + 1] == ' ' || head[i + 1] == '\t'))
      return make_error("proxy request",
                        "a header field is folded over lines (obs-fold); send it on one line");
  return ok_status();
}

// One Content-Length of plain digits or one "Transfer-Encoding: chunked";
// anything else could be framed differently by the origin.
Status read_framing(const HeadParser& parser, ProxyRequest& r) {
  const auto& msg = parser.get();
  size_t lengths = msg.count(http::field::content_length);
  size_t encodings = msg.count(http::field::transfer_encoding);
  auto refused = [](std::string why) { return make_error("proxy request", std::move(why)); };
  if (lengths > 0 && encodings > 0)
    return refused("Transfer-Encoding and Content-Length together (request smuggling)");
  if (lengths > 1 || encodings > 1)
    return refused("Content-Length or Transfer-Encoding is given twice (request smuggling)");
  if (encodings == 1) {
    if (!boost::beast::iequals(msg[http::field::transfer_encoding], "chunked"))
      return refused("only 'Transfer-Encoding: chunked' is proxied");
    r.body = BodyFraming::kChunked;
  }
  if (lengths == 1) {
    std::string_view v = msg[http::field::content_length];
    if (v.find_first_not_of("0123456789") != std::string_view::npos)
      return refused("Content-Length must be plain digits");
    r.body = BodyFraming::kContentLength;
    r.content_length = *parser.content_length();
  }
  return ok_status();
}

// The Host header, when sent, must name the request's destination: the policy
// decides on the target, the origin routes on Host. A port-less Host means
// 80 on a forwarded request and 443 on CONNECT (what clients omit there).
Status check_host_header(const HeadParser& parser, ProxyRequest& r, uint16_t default_port) {
  const auto& msg = parser.get();
  size_t hosts = msg.count(http::field::host);
  if (hosts == 0) return ok_status();
  if (hosts > 1)
    return make_error("proxy request", "the Host header is given twice (no domain fronting)");
  r.host_header = std::string(msg[http::field::host]);
  auto host = parse_host_header(r.host_header, default_port);
  if (!host.ok())
    return make_error("proxy request", "the Host header is malformed: " + host.error().detail);
  if (!same_authority(*host, r.destination))
    return make_error("proxy request", "the Host header names another place than " +
                                           authority_text(r.destination) +
                                           " (no domain fronting); send the same host and port");
  return ok_status();
}

Result<ProxyRequest> to_request(const HeadParser& parser, std::string_view head) {
  HULL_TRY(check_no_obs_fold(head));
  const auto& msg = parser.get();
  ProxyRequest r;
  r.method = std::string(msg.method_string());
  r.http_version = msg.version();
  for (const auto& f : msg)
    r.fields.push_back({std::string(f.name_string()), std::string(f.value())});
  HULL_TRY(read_framing(parser, r));
  std::string_view target = msg.target();
  uint16_t host_default_port = 80;
  if (msg.method() == http::verb::connect) {
    r.protocol = ProxyProtocol::kHttpConnect;
    HULL_ASSIGN(r.destination, parse_connect_target(target));
    if (r.body == BodyFraming::kChunked || r.content_length > 0)
      return make_error("proxy request", "a CONNECT request carries no body");
    r.body = BodyFraming::kNone;
    host_default_port = 443;
  } else {
    if (target.front() == '/' || target == "*")
      return make_error("proxy request",
                        "this is a proxy; send absolute-form (GET http://host/path) or CONNECT "
                        "host:port");
    HULL_ASSIGN(AbsoluteTarget absolute, parse_absolute_target(target));
    r.protocol = ProxyProtocol::kHttpForward;
    r.destination = std::move(absolute.authority);
    r.origin_form = std::move(absolute.origin_form);
    r.keep_alive = msg.keep_alive();
  }
  HULL_TRY(check_host_header(parser, r, host_default_port));
  return r;
}

// A fresh parse of `lines` (complete lines only). nullopt: the head is not
// complete yet. Otherwise kDone with `consumed` = the head's length, or kRefused.
std::optional<ParseStep> parse_head(std::string_view lines) {
  HeadParser parser;
  parser.header_limit(kMaxRequestHead);
  parser.body_limit(boost::none);  // bodies are only framed here, never read: any size
  parser.eager(false);             // stop at the end of the head
  boost::beast::error_code ec;
  size_t used = parser.put(boost::asio::const_buffer(lines.data(), lines.size()), ec);
  if (ec == http::error::need_more) return std::nullopt;
  if (ec == http::error::header_limit) return refuse_too_large();
  if (ec) return refuse(beast_reason(ec));
  if (!parser.is_header_done()) return std::nullopt;
  auto request = to_request(parser, lines.substr(0, used));
  if (!request.ok()) return refuse(request.error().detail);
  ParseStep s;
  s.kind = ParseStep::Kind::kDone;
  s.consumed = used;
  s.request = std::move(request).value();
  return s;
}

// Just past the first empty line that starts at or after `from`: CRLF CRLF,
// or a bare LF LF, which Beast then refuses at once (rather than waiting for
// a CRLF CRLF that a bare-LF client never sends). npos: none yet.
size_t blank_line_end(std::string_view head, size_t from) {
  for (size_t i = head.find('\n', from); i != std::string_view::npos; i = head.find('\n', i + 1)) {
    if (head.substr(i + 1, 1) == "\n") return i + 2;
    if (head.substr(i + 1, 2) == "\r\n") return i + 3;
  }
  return std::string_view::npos;
}

}  // namespace

ParseStep HttpHeadParser::feed(std::string_view bytes) {
  ParseStep more;
  more.consumed = bytes.size();
  if (bytes.empty()) return more;
  if (head_.empty()) {
    // Refuse what is plainly not HTTP at once, rather than wait for a line end that may never come.
    if (bytes.front() == '\x16') return refuse_tls();
    if (!is_tchar(static_cast<unsigned char>(bytes.front())))
      return refuse("this proxy speaks HTTP and SOCKS5; the request does not start with a method");
  }
  const size_t before = head_.size();
  head_.append(bytes.substr(0, kMaxRequestHead - before));
  const std::string_view head = head_;

  size_t head_end = blank_line_end(head, before >= 2 ? before - 2 : 0);
  if (head_end != std::string_view::npos) {
    std::optional<ParseStep> s = parse_head(head.substr(0, head_end));
    if (!s) return refuse("the request head is malformed");  // Beast always decides on a whole head
    if (s->kind == ParseStep::Kind::kDone) {
      // The blank line is new: an earlier feed would have found it otherwise.
      assert(s->consumed > before);
      s->consumed -= before;
    }
    return *std::move(s);
  }
  if (head.size() == kMaxRequestHead) {
    size_t last_line_end = head.rfind('\n');
    std::string_view lines = last_line_end == std::string_view::npos
                                 ? std::string_view{}
                                 : head.substr(0, last_line_end + 1);
    std::optional<ParseStep> s =
        parse_head(lines);  // a refusal for what is wrong in them, if anything
    return s ? *std::move(s) : refuse_too_large();
  }
  if (!request_line_seen_) {
    size_t line_end = head.find('\n', before);
    if (line_end != std::string_view::npos) {
      request_line_seen_ = true;
      std::optional<ParseStep> s = parse_head(head.substr(0, line_end + 1));
      if (s) return *std::move(s);  // a refusal: a head is never done after one line
    }
  }
  return more;
}

}  // namespace hull::egress
