// The first byte of a connection decides which parser reads it; after that
// this only forwards bytes and remembers that the parser is finished.
#include "egress/proxy_request.h"

#include <cassert>

#include "egress/http_head.h"
#include "egress/proxy_responses.h"
#include "egress/socks5_request.h"

namespace hull::egress {
namespace {

constexpr char kSocks5Version = 0x05;
constexpr char kSocks4Version = 0x04;

ParseStep refuse_socks4() {
  ParseStep s;
  s.kind = ParseStep::Kind::kRefused;
  s.reply = socks4_rejected();
  s.refusal = make_error("proxy request",
                         "SOCKS4 is not supported; use SOCKS5 (ALL_PROXY=socks5h://127.0.0.1:3128) "
                         "or the HTTP proxy");
  return s;
}

}  // namespace

ProxyRequestParser::ProxyRequestParser(Opening opening) : opening_(opening) {}
ProxyRequestParser::~ProxyRequestParser() = default;
ProxyRequestParser::ProxyRequestParser(ProxyRequestParser&&) noexcept = default;
ProxyRequestParser& ProxyRequestParser::operator=(ProxyRequestParser&&) noexcept = default;

ParseStep ProxyRequestParser::feed(std::string_view bytes) {
  assert(!finished_ && "ProxyRequestParser::feed after kDone or kRefused");
  if (finished_) {
    ParseStep s;
    s.kind = ParseStep::Kind::kRefused;
    s.refusal = make_error("proxy request", "fed after the request was done (a bug in the proxy)");
    return s;
  }
  if (!http_ && !socks5_) {
    if (bytes.empty()) return ParseStep{};
    const bool first_of_connection = opening_ == Opening::kNewConnection;
    if (first_of_connection && bytes.front() == kSocks5Version) {
      socks5_ = std::make_unique<Socks5Parser>();
    } else if (first_of_connection && bytes.front() == kSocks4Version) {
      finished_ = true;
      return refuse_socks4();
    } else {
      http_ = std::make_unique<HttpHeadParser>();
    }
  }
  ParseStep s = socks5_ ? socks5_->feed(bytes) : http_->feed(bytes);
  finished_ = s.kind != ParseStep::Kind::kNeedMore;
  return s;
}

}  // namespace hull::egress
