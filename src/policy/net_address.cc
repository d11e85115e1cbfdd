#include "policy/net_address.h"

#include <cstdio>
#include <vector>

namespace hull::policy {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool all_digits(std::string_view s) {
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return !s.empty();
}

bool has_hex_prefix(std::string_view s) {
  return s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    parts.push_back(
        s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

// One inet_aton part: 0x-hex, 0-octal or decimal. nullopt when it is none
// of them or exceeds 32 bits (the caller then calls the literal malformed).
std::optional<uint64_t> inet_aton_part(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t base = 10;
  if (has_hex_prefix(s)) {
    base = 16;
    s.remove_prefix(2);  // "0x" alone is 0, as inet_aton and WHATWG read it
  } else if (s.size() > 1 && s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  uint64_t v = 0;
  for (char c : s) {
    int d = hex_value(c);
    if (d < 0 || static_cast<uint64_t>(d) >= base) return std::nullopt;
    v = v * base + static_cast<uint64_t>(d);
    if (v > 0xffffffffULL) return std::nullopt;  // checked each step: no overflow
  }
  return v;
}

Error malformed(std::string_view text, std::string detail) {
  return make_error("IP address '" + std::string(text) + "'", std::move(detail));
}

// The inet_aton / WHATWG reading of an IPv4 host. `parts` has 1..N entries.
Result<NetAddress> parse_inet_aton(std::string_view text,
                                   const std::vector<std::string_view>& parts) {
  if (parts.size() > 4) {
    return malformed(text, "more than four parts; an IPv4 address is written like 10.0.0.1");
  }
  std::vector<uint64_t> values;
  for (auto p : parts) {
    auto v = inet_aton_part(p);
    if (!v) {
      return malformed(text, "part '" + std::string(p) +
                                 "' is not a decimal, 0x-hex or 0-octal number below 2^32");
    }
    values.push_back(*v);
  }
  for (size_t i = 0; i + 1 < values.size(); ++i) {
    if (values[i] > 255) return malformed(text, "a part before the last is over 255");
  }
  const unsigned last_bits = 8 * static_cast<unsigned>(5 - values.size());
  if (last_bits < 32 && values.back() >= (1ULL << last_bits)) {
    return malformed(text, "the last part is too large for the bytes it fills");
  }
  uint64_t v = values.back();
  for (size_t i = 0; i + 1 < values.size(); ++i) v |= values[i] << (24 - 8 * i);
  return NetAddress::v4(static_cast<uint32_t>(v));
}

// Strict dotted quad: four decimals 0..255, no leading zeros. For rules and
// the IPv4 tail of an IPv6 address, where only this form is meant.
std::optional<uint32_t> parse_dotted_quad(std::string_view s) {
  auto parts = split(s, '.');
  if (parts.size() != 4) return std::nullopt;
  uint32_t v = 0;
  for (auto p : parts) {
    if (!all_digits(p) || p.size() > 3 || (p.size() > 1 && p[0] == '0')) return std::nullopt;
    unsigned n = 0;
    for (char c : p) n = n * 10 + static_cast<unsigned>(c - '0');
    if (n > 255) return std::nullopt;
    v = (v << 8) | n;
  }
  return v;
}

// RFC 4291 text form, without brackets or zone: groups of 1..4 hex digits,
// one "::", an optional dotted-quad tail.
std::optional<std::array<uint8_t, 16>> parse_ipv6(std::string_view s) {
  std::array<uint16_t, 8> words{};
  int n = 0;
  int gap = -1;  // index in `words` where "::" stands
  size_t i = 0;
  if (s.substr(0, 2) == "::") {
    gap = 0;
    i = 2;
  } else if (s.empty() || s[0] == ':') {
    return std::nullopt;
  }
  while (i < s.size()) {
    if (n == 8) return std::nullopt;
    const size_t start = i;
    unsigned v = 0;
    while (i < s.size() && hex_value(s[i]) >= 0) {
      v = v * 16 + static_cast<unsigned>(hex_value(s[i]));
      if (++i - start > 4) return std::nullopt;
    }
    if (i < s.size() && s[i] == '.') {
      auto quad = parse_dotted_quad(s.substr(start));
      if (!quad || n > 6) return std::nullopt;
      words[n++] = static_cast<uint16_t>(*quad >> 16);
      words[n++] = static_cast<uint16_t>(*quad & 0xffff);
      i = s.size();
      break;
    }
    if (i == start) return std::nullopt;
    words[n++] = static_cast<uint16_t>(v);
    if (i == s.size()) break;
    if (s[i] != ':') return std::nullopt;
    if (++i == s.size()) return std::nullopt;  // a single trailing ':'
    if (s[i] == ':') {
      if (gap >= 0) return std::nullopt;
      gap = n;
      ++i;
    }
  }
  if (gap < 0 ? n != 8 : n == 8) return std::nullopt;
  std::array<uint16_t, 8> full{};
  const int tail = gap < 0 ? 0 : n - gap;
  for (int k = 0; k < n - tail; ++k) full[k] = words[k];
  for (int k = 0; k < tail; ++k) full[8 - tail + k] = words[n - tail + k];
  std::array<uint8_t, 16> out{};
  for (int k = 0; k < 8; ++k) {
    out[2 * k] = static_cast<uint8_t>(full[k] >> 8);
    out[2 * k + 1] = static_cast<uint8_t>(full[k] & 0xff);
  }
  return out;
}

Result<NetAddress> parse_ipv6_literal(std::string_view text, std::string_view inner) {
  if (inner.find('%') != std::string_view::npos) {
    return malformed(text, "zone ids (%eth0) are refused: name a global address instead");
  }
  auto bytes = parse_ipv6(inner);
  if (!bytes) return malformed(text, "not a valid IPv6 address (it is written like [2001:db8::1])");
  return NetAddress::v6(*bytes);
}

}  // namespace

NetAddress NetAddress::v4(uint32_t host_order) {
  NetAddress a;
  a.family = AddressFamily::kV4;
  for (int i = 0; i < 4; ++i) a.bytes[i] = static_cast<uint8_t>(host_order >> (24 - 8 * i));
  return a;
}

NetAddress NetAddress::v6(const std::array<uint8_t, 16>& network_order) {
  NetAddress a;
  a.family = AddressFamily::kV6;
  a.bytes = network_order;
  return a;
}

uint32_t NetAddress::v4_value() const {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

std::string to_string(const NetAddress& a) {
  char buf[64];
  if (a.is_v4()) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a.bytes[0], a.bytes[1], a.bytes[2], a.bytes[3]);
    return buf;
  }
  uint16_t w[8];
  for (int k = 0; k < 8; ++k)
    w[k] = static_cast<uint16_t>((a.bytes[2 * k] << 8) | a.bytes[2 * k + 1]);
  const bool mapped =
      w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0xffff;
  const int words = mapped ? 6 : 8;
  // RFC 5952: compress the longest run (of two or more) zero words, the first if tied.
  int best = -1, best_len = 1;
  for (int k = 0; k < words;) {
    int len = 0;
    while (k + len < words && w[k + len] == 0) ++len;
    if (len > best_len) {
      best = k;
      best_len = len;
    }
    k += len > 0 ? len : 1;
  }
  std::string out;
  for (int k = 0; k < words; ++k) {
    if (k == best) {
      out += "::";
      k += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof buf, "%x", w[k]);
    out += buf;
  }
  if (mapped) {
    std::snprintf(buf, sizeof buf, "%s%u.%u.%u.%u", out.back() == ':' ? "" : ":", a.bytes[12],
                  a.bytes[13], a.bytes[14], a.bytes[15]);
    out += buf;
  }
  return out;
}

std::string to_host_text(const NetAddress& a) {
  return a.is_v4() ? to_string(a) : "[" + to_string(a) + "]";
}

Result<std::optional<NetAddress>> parse_ip_literal(std::string_view text) {
  if (!text.empty() && text.front() == '[') {
    if (text.size() < 2 || text.back() != ']') return malformed(text, "an opening '[' without ']'");
    HULL_ASSIGN(auto a, parse_ipv6_literal(text, text.substr(1, text.size() - 2)));
    return std::optional<NetAddress>(a);
  }
  if (text.find(':') != std::string_view::npos) {
    HULL_ASSIGN(auto a, parse_ipv6_literal(text, text));
    return std::optional<NetAddress>(a);
  }
  // WHATWG's "ends in a number": only then is the host an IPv4 address (or
  // an error); otherwise it is a name. One trailing dot is allowed.
  std::string_view body = text;
  if (!body.empty() && body.back() == '.') body.remove_suffix(1);
  auto parts = split(body, '.');
  const std::string_view last = parts.back();
  bool numeric = all_digits(last);
  if (has_hex_prefix(last)) {
    numeric = true;
    for (char c : last.substr(2)) numeric = numeric && hex_value(c) >= 0;
  }
  if (!numeric) return std::optional<NetAddress>();
  HULL_ASSIGN(auto a, parse_inet_aton(text, parts));
  return std::optional<NetAddress>(a);
}

Result<NetPrefix> parse_cidr(std::string_view text) {
  const std::string op = "CIDR '" + std::string(text) + "'";
  const char* example = " (write it like 10.0.0.0/8, 10.0.0.5 or [fd00::]/8)";
  std::string_view addr_text = text, len_text;
  bool has_len = false;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos)
      return make_error(op, std::string("'[' without ']'") + example);
    addr_text = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != '/') {
      return make_error(op, std::string("unexpected text after ']'") + example);
    }
    if (!rest.empty()) {
      has_len = true;
      len_text = rest.substr(1);
    }
    if (addr_text.find(':') == std::string_view::npos) {
      return make_error(op, std::string("brackets are for IPv6 addresses") + example);
    }
  } else if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr_text = text.substr(0, slash);
    len_text = text.substr(slash + 1);
    has_len = true;
  }
  NetAddress base;
  if (addr_text.find(':') != std::string_view::npos) {
    if (addr_text.find('%') != std::string_view::npos) {
      return make_error(op, std::string("zone ids (%eth0) are refused") + example);
    }
    auto bytes = parse_ipv6(addr_text);
    if (!bytes) return make_error(op, std::string("not a valid IPv6 address") + example);
    base = NetAddress::v6(*bytes);
  } else {
    auto quad = parse_dotted_quad(addr_text);
    if (!quad) {
      return make_error(
          op, std::string("the address is not a dotted quad of decimals 0..255") + example);
    }
    base = NetAddress::v4(*quad);
  }
  unsigned length = static_cast<unsigned>(base.bit_width());
  if (has_len) {
    if (!all_digits(len_text) || len_text.size() > 3 ||
        (len_text.size() > 1 && len_text[0] == '0')) {
      return make_error(op, std::string("the prefix length after '/' is not a number") + example);
    }
    length = 0;
    for (char c : len_text) length = length * 10 + static_cast<unsigned>(c - '0');
    if (length > static_cast<unsigned>(base.bit_width())) {
      return make_error(op,
                        "the prefix length is over " + std::to_string(base.bit_width()) + example);
    }
  }
  NetPrefix p{base, static_cast<uint8_t>(length)};
  NetPrefix masked = p;
  for (int bit = static_cast<int>(length); bit < base.bit_width(); ++bit) {
    masked.base.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  if (!(masked == p)) {
    return make_error(op, "host bits are set below /" + std::to_string(length) + ": did you mean " +
                              to_string(masked) + ", or " + to_host_text(base) + " alone?");
  }
  return p;
}

std::string to_string(const NetPrefix& p) {
  return to_host_text(p.base) + "/" + std::to_string(p.length);
}

bool contains(const NetPrefix& p, const NetAddress& a) {
  if (p.base.family != a.family) return false;
  const int full = p.length / 8;
  for (int i = 0; i < full; ++i) {
    if (p.base.bytes[i] != a.bytes[i]) return false;
  }
  const int rest = p.length % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff00u >> rest);
  return (p.base.bytes[full] & mask) == (a.bytes[full] & mask);
}

}  // namespace hull::policy
