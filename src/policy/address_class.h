// What kind of address an IP address is, for the egress rule "a name never
// reaches a non-public address": loopback, private, link-local (where cloud
// metadata lives), multicast, reserved and documentation blocks.
//
// IPv6 forms that carry an IPv4 address (IPv4-mapped ::ffff:0:0/96,
// IPv4-compatible ::/96, IPv4-translated ::ffff:0:0:0/96, NAT64 64:ff9b::/96
// and 64:ff9b:1::/48, 6to4 2002::/16, Teredo 2001::/32 with both its server
// and its client address) are classified by the IPv4 address inside: a
// resolver that answers 64:ff9b::a9fe:a9fe is pointing at 169.254.169.254.
//
// The blocks are one table in address_class.cc, each with its source.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/net_address.h"

namespace hull::policy {

enum class AddressClass {
  kPublic,
  kUnspecified,    // 0.0.0.0, :: (a connect() to it reaches this host)
  kThisNetwork,    // 0.0.0.0/8
  kLoopback,       // 127.0.0.0/8, ::1
  kLinkLocal,      // 169.254.0.0/16 (169.254.169.254: cloud metadata), fe80::/10
  kPrivate,        // RFC 1918: 10/8, 172.16/12, 192.168/16
  kSharedCgnat,    // 100.64.0.0/10 (RFC 6598)
  kUniqueLocal,    // fc00::/7, and the deprecated site-local fec0::/10
  kMulticast,      // 224.0.0.0/4, ff00::/8
  kBroadcast,      // 255.255.255.255
  kReserved,       // 240/4 and other blocks no public host lives in
  kBenchmarking,   // 198.18.0.0/15
  kDocumentation,  // 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20
};

// How an IPv6 address carries an IPv4 one.
enum class Embedding {
  kNone,
  kIpv4Mapped,      // ::ffff:a.b.c.d
  kIpv4Compatible,  // ::a.b.c.d (deprecated)
  kIpv4Translated,  // ::ffff:0:a.b.c.d (SIIT)
  kNat64,           // 64:ff9b::a.b.c.d, 64:ff9b:1::a.b.c.d
  k6to4,            // 2002:AABB:CCDD::/48
  kTeredoServer,    // 2001:0:AABB:CCDD::/64
  kTeredoClient,    // 2001:0:...:~AABB:~CCDD (last 32 bits inverted)
};

struct AddressVerdict {
  AddressClass kind = AddressClass::kPublic;
  Embedding via = Embedding::kNone;  // set when the IPv4 address inside decided
  NetAddress embedded;               // that IPv4 address (only when via != kNone)
};

AddressVerdict classify(const NetAddress& a);
inline bool is_public(const NetAddress& a) { return classify(a).kind == AddressClass::kPublic; }

// "loopback", "private (RFC 1918)", "link-local (cloud metadata lives here)".
std::string_view class_name(AddressClass c);
std::string_view embedding_name(Embedding e);  // "NAT64", "Teredo client", ...
// One line: "loopback: 127.0.0.1 inside a Teredo client address".
std::string explain(const AddressVerdict& v);

// Every IPv4 address `a` carries, by the forms above; empty for IPv4 and
// for IPv6 that embeds none. Deny rules look through these.
std::vector<std::pair<Embedding, NetAddress>> embedded_ipv4(const NetAddress& a);

}  // namespace hull::policy
