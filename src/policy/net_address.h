// IP addresses and prefixes as values, parsed from the text a client or a
// rule writes. Pure code: no resolver, no sockets.
//
// Why hand-written parsers and not inet_pton: a URL host is read by clients
// with the inet_aton rules (`127.1`, `0x7f000001`, `0177.0.0.1`,
// `2130706433`), and the system resolver accepts the same forms. The egress
// policy must see every one of them as the address it is, or `0x7f.1` would
// pass as a "name" that the host resolves to 127.0.0.1.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace hull::policy {

enum class AddressFamily : uint8_t { kV4, kV6 };

// One IPv4 or IPv6 address. IPv4 uses bytes[0..3] (network order) and the
// rest stays zero, so that == and <=> compare addresses, not garbage.
struct NetAddress {
  AddressFamily family = AddressFamily::kV4;
  std::array<uint8_t, 16> bytes{};

  static NetAddress v4(uint32_t host_order);
  static NetAddress v6(const std::array<uint8_t, 16>& network_order);
  bool is_v4() const { return family == AddressFamily::kV4; }
  uint32_t v4_value() const;  // host order; only for is_v4()
  int bit_width() const { return is_v4() ? 32 : 128; }

  auto operator<=>(const NetAddress&) const = default;
};

// "127.0.0.1", "::1", "::ffff:127.0.0.1" (RFC 5952: lower case, longest
// zero run compressed, IPv4-mapped in mixed notation). No brackets.
std::string to_string(const NetAddress& a);
// As it goes in a URL or a rule: IPv6 in brackets ("[::1]").
std::string to_host_text(const NetAddress& a);

// Reads a host as an IP literal, in any encoding a client might use:
//   IPv4 with the inet_aton rules, per part decimal, 0x-hex or 0-octal, one
//   to four parts (`127.1`, `10.1.2`, `2130706433`, `0x7f.1`), and one
//   trailing dot; IPv6 bracketed (`[::1]`, `[::ffff:127.0.0.1]`) or bare.
// Returns:
//   a value     — the address;
//   nullopt     — not an IP literal (a name: its last label is not numeric);
//   an Error    — it is written as an address but is not a valid one
//                 (`1.2.3.256`, `example.123`, `[::1%eth0]`: zone ids are
//                 refused). Callers refuse these: never treat them as names.
Result<std::optional<NetAddress>> parse_ip_literal(std::string_view text);

// An address prefix ("CIDR"). Host bits below `length` are always zero.
struct NetPrefix {
  NetAddress base;
  uint8_t length = 0;  // 0..32 for IPv4, 0..128 for IPv6

  bool operator==(const NetPrefix&) const = default;
};

// `10.0.0.0/8`, `fd00::/8`, `[fd00::]/8`; a plain address is /32 or /128.
// Rules are written by people, so this is strict: IPv4 as a dotted quad of
// decimals, and host bits set (`10.0.0.1/8`) is an error that names the
// prefix that was probably meant.
Result<NetPrefix> parse_cidr(std::string_view text);
// "10.0.0.0/8", "[fd00::]/8": what parse_cidr reads back to the same prefix.
std::string to_string(const NetPrefix& p);
// Same family and the first `length` bits equal. No embedding is looked
// through here (see address_class.h for that).
bool contains(const NetPrefix& p, const NetAddress& a);

}  // namespace hull::policy
