// Authority and URL parsing for proxy requests. Nothing here echoes what the
// client wrote into an error: the bytes are hostile and the message may end
// up in a response, a log line or a terminal.
#include "egress/request_target.h"

#include <arpa/inet.h>

#include <optional>

namespace hull::egress {
namespace {

Error refused(std::string detail) { return make_error("proxy request", std::move(detail)); }

bool is_host_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '%' || c >= 0x80;
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

Status check_ipv6_literal(std::string_view bracketed) {
  // "[" addr "]": hex, ':' and '.' only (an embedded IPv4 tail), so no zone
  // id ("%25eth0") and no IPvFuture ("[v1.x]"); inet_pton has the last word.
  std::string_view inner = bracketed.substr(1, bracketed.size() - 2);
  if (inner.empty() || inner.size() >= INET6_ADDRSTRLEN)
    return refused("the IPv6 literal is malformed");
  for (char c : inner) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex && c != ':' && c != '.')
      return refused("the IPv6 literal is malformed (zone ids are not supported)");
  }
  in6_addr addr{};
  if (inet_pton(AF_INET6, std::string(inner).c_str(), &addr) != 1)
    return refused("the IPv6 literal is malformed");
  return ok_status();
}

Result<uint16_t> parse_port(std::string_view digits) {
  if (digits.empty()) return refused("the port after ':' is empty");
  if (digits.size() > 5) return refused("the port must be 1-65535");
  uint32_t port = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return refused("the port must be 1-65535");
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port == 0 || port > 65535) return refused("the port must be 1-65535");
  return static_cast<uint16_t>(port);
}

// host [":" port]; without a port, `default_port` (none: the port is required).
Result<Authority> parse_authority(std::string_view text, std::optional<uint16_t> default_port) {
  std::string_view host = text;
  std::string_view port_text;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return refused("the IPv6 literal has no closing ']'");
    host = text.substr(0, close + 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return refused("only ':port' may follow an IPv6 literal");
      port_text = rest.substr(1);
      has_port = true;
    }
  } else if (size_t colon = text.find(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    has_port = true;
  }
  HULL_TRY(check_host(host));
  Authority out{std::string(host), 0};
  if (has_port) {
    HULL_ASSIGN(out.port, parse_port(port_text));
  } else if (default_port) {
    out.port = *default_port;
  } else {
    return refused("CONNECT needs host:port (the port is required)");
  }
  return out;
}

}  // namespace

Status check_host(std::string_view host) {
  if (host.empty()) return refused("the host is empty");
  if (host.size() > kMaxHostLength) return refused("the host is longer than 255 bytes");
  if (host.front() == '[') {
    if (host.back() != ']') return refused("the IPv6 literal has no closing ']'");
    return check_ipv6_literal(host);
  }
  for (char c : host)
    if (!is_host_byte(static_cast<unsigned char>(c)))
      return refused("the host has a byte no DNS name has (allowed: letters, digits, - . _ ~ %)");
  return ok_status();
}

Result<Authority> parse_connect_target(std::string_view target) {
  return parse_authority(target, std::nullopt);
}

Result<AbsoluteTarget> parse_absolute_target(std::string_view target) {
  size_t sep = target.find("://");
  if (sep == std::string_view::npos) return refused("the request-target is not a URL");
  std::string_view scheme = target.substr(0, sep);
  if (iequals(scheme, "https"))
    return refused(
        "https:// URLs go through CONNECT host:443 (set HTTPS_PROXY), so that TLS "
        "stays end to end");
  if (!iequals(scheme, "http"))
    return refused("only http:// URLs are proxied in the request line; use CONNECT for others");
  if (target.find('#') != std::string_view::npos)
    return refused("the URL has a fragment ('#'); clients must not send one");
  std::string_view rest = target.substr(sep + 3);
  size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos)
    return refused("the URL carries userinfo (user@host); send credentials in a header");
  AbsoluteTarget out;
  HULL_ASSIGN(out.authority, parse_authority(authority, uint16_t{80}));
  std::string_view path = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  if (path.empty() || path.front() == '?') out.origin_form = "/";
  out.origin_form += path;
  return out;
}

Result<Authority> parse_host_header(std::string_view value, uint16_t default_port) {
  return parse_authority(value, default_port);
}

bool same_authority(const Authority& a, const Authority& b) {
  return a.port == b.port && iequals(a.host, b.host);
}

std::string authority_text(const Authority& a) { return a.host + ":" + std::to_string(a.port); }

}  // namespace hull::egress
