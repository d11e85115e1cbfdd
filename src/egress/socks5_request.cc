// SOCKS5 greeting and request. Messages are read byte-exact: the parser takes
// only as many bytes as the current message needs, so whatever the client
// sent after its request (optimistic data) is left for the tunnel.
#include "egress/socks5_request.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "egress/proxy_responses.h"

namespace hull::egress {
namespace {

constexpr uint8_t kNoAuthentication = 0x00;
constexpr uint8_t kCommandConnect = 0x01;
constexpr uint8_t kAddressIPv4 = 0x01;
constexpr uint8_t kAddressDomain = 0x03;
constexpr uint8_t kAddressIPv6 = 0x04;

uint8_t byte_at(std::string_view m, size_t i) { return static_cast<uint8_t>(m[i]); }

// How many bytes the whole message is, as far as its first bytes tell.
size_t greeting_size(std::string_view m) { return m.size() < 2 ? 2 : 2 + byte_at(m, 1); }

size_t request_size(std::string_view m) {
  if (m.size() < 4) return 4;
  switch (byte_at(m, 3)) {
    case kAddressIPv4:
      return 4 + 4 + 2;
    case kAddressIPv6:
      return 4 + 16 + 2;
    case kAddressDomain:
      return m.size() < 5 ? 5 : 4 + 1 + byte_at(m, 4) + 2;
    default:
      return 4;  // refused below, once the header is in
  }
}

ParseStep refuse(std::string reply, std::string why) {
  ParseStep s;
  s.kind = ParseStep::Kind::kRefused;
  s.reply = std::move(reply);
  s.refusal = make_error("SOCKS5 request", std::move(why));
  return s;
}

// Checks VER CMD RSV ATYP (and an empty name) as soon as they are in, so a
// client that sends something else is told at once; nullopt: fine so far.
std::optional<ParseStep> check_request_header(std::string_view m) {
  if (m.size() < 4) return std::nullopt;
  const std::string failure = socks5_reply(Socks5Reply::kGeneralFailure);
  if (byte_at(m, 0) != 5) return refuse(failure, "the request's version byte is not 5");
  if (byte_at(m, 1) != kCommandConnect)
    return refuse(socks5_reply(Socks5Reply::kCommandNotSupported),
                  "only CONNECT is supported (not BIND or UDP ASSOCIATE)");
  if (byte_at(m, 2) != 0) return refuse(failure, "the reserved byte is not 0");
  uint8_t type = byte_at(m, 3);
  if (type != kAddressIPv4 && type != kAddressDomain && type != kAddressIPv6)
    return refuse(socks5_reply(Socks5Reply::kAddressTypeNotSupported),
                  "the address type must be 1 (IPv4), 3 (domain name) or 4 (IPv6)");
  if (type == kAddressDomain && m.size() >= 5 && byte_at(m, 4) == 0)
    return refuse(failure, "the domain name is empty");
  return std::nullopt;
}

std::string address_text(std::string_view m) {
  switch (byte_at(m, 3)) {
    case kAddressIPv4: {
      char text[16];
      std::snprintf(text, sizeof text, "%u.%u.%u.%u", byte_at(m, 4), byte_at(m, 5), byte_at(m, 6),
                    byte_at(m, 7));
      return text;
    }
    case kAddressIPv6: {
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(AF_INET6, m.data() + 4, text, sizeof text);
      return "[" + std::string(text) + "]";
    }
    default:
      return std::string(m.substr(5, byte_at(m, 4)));
  }
}

ParseStep finish_request(std::string_view m) {
  ProxyRequest r;
  r.protocol = ProxyProtocol::kSocks5;
  r.method = "CONNECT";
  r.destination.host = address_text(m);
  r.destination.port =
      static_cast<uint16_t>(byte_at(m, m.size() - 2) << 8 | byte_at(m, m.size() - 1));
  const std::string failure = socks5_reply(Socks5Reply::kGeneralFailure);
  if (Status host = check_host(r.destination.host); !host.ok())
    return refuse(failure, "the domain name is refused: " + host.error().detail);
  if (r.destination.port == 0) return refuse(failure, "port 0 is not a destination");
  ParseStep s;
  s.kind = ParseStep::Kind::kDone;
  s.request = std::move(r);
  return s;
}

}  // namespace

ParseStep Socks5Parser::feed(std::string_view bytes) {
  std::string reply;  // the method selection, when the greeting completes in this feed
  size_t used = 0;
  for (;;) {
    auto wanted = [&] {
      return stage_ == Stage::kGreeting ? greeting_size(message_) : request_size(message_);
    };
    // The size grows once a length byte is in; never take past it.
    for (size_t want = wanted(); message_.size() < want && used < bytes.size(); want = wanted()) {
      size_t take = std::min(want - message_.size(), bytes.size() - used);
      message_.append(bytes.substr(used, take));
      used += take;
    }
    const bool complete = message_.size() == wanted();

    if (stage_ == Stage::kGreeting) {
      if (!complete) break;
      if (byte_at(message_, 0) != 5)
        return refuse(reply + socks5_no_acceptable_method(),
                      "the greeting's version byte is not 5");
      std::string_view methods = std::string_view(message_).substr(2);
      if (methods.find(static_cast<char>(kNoAuthentication)) == std::string_view::npos)
        return refuse(reply + socks5_no_acceptable_method(),
                      "the client offers no 'no authentication' method (0x00); hull's proxy "
                      "takes no credentials");
      reply += socks5_no_auth_selected();
      stage_ = Stage::kRequest;
      message_.clear();
      continue;
    }

    if (auto refused = check_request_header(message_)) {
      refused->reply.insert(0, reply);
      return *std::move(refused);
    }
    if (!complete) break;
    ParseStep s = finish_request(message_);
    s.reply.insert(0, reply);
    s.consumed = used;
    return s;
  }
  ParseStep more;
  more.reply = std::move(reply);
  more.consumed = bytes.size();
  return more;
}

}  // namespace hull::egress
