#include "policy/address_class.h"

#include <cstdlib>

namespace hull::policy {

namespace {

struct SpecialBlock {
  const char* cidr;
  AddressClass kind;
  const char* source;  // where the block is defined
};

// Non-public blocks. First match wins, so a block comes before any larger
// block that contains it. The IPv6 forms that embed IPv4 are not rows: they
// are looked through in classify(). Sources: the IANA special-purpose
// address registries (RFC 6890 and successors).
constexpr SpecialBlock kSpecialBlocks[] = {
    {"0.0.0.0/32", AddressClass::kUnspecified, "RFC 1122: connect() to it reaches this host"},
    {"0.0.0.0/8", AddressClass::kThisNetwork, "RFC 791 / RFC 1122"},
    {"10.0.0.0/8", AddressClass::kPrivate, "RFC 1918"},
    {"100.64.0.0/10", AddressClass::kSharedCgnat, "RFC 6598"},
    {"127.0.0.0/8", AddressClass::kLoopback, "RFC 1122"},
    {"169.254.0.0/16", AddressClass::kLinkLocal, "RFC 3927; 169.254.169.254 is cloud metadata"},
    {"172.16.0.0/12", AddressClass::kPrivate, "RFC 1918"},
    {"192.0.0.0/24", AddressClass::kReserved, "RFC 6890: IETF protocol assignments"},
    {"192.0.2.0/24", AddressClass::kDocumentation, "RFC 5737: TEST-NET-1"},
    {"192.88.99.0/24", AddressClass::kReserved, "RFC 7526: deprecated 6to4 relay anycast"},
    {"192.168.0.0/16", AddressClass::kPrivate, "RFC 1918"},
    {"198.18.0.0/15", AddressClass::kBenchmarking, "RFC 2544"},
    {"198.51.100.0/24", AddressClass::kDocumentation, "RFC 5737: TEST-NET-2"},
    {"203.0.113.0/24", AddressClass::kDocumentation, "RFC 5737: TEST-NET-3"},
    {"224.0.0.0/4", AddressClass::kMulticast, "RFC 5771"},
    {"255.255.255.255/32", AddressClass::kBroadcast, "RFC 919"},
    {"240.0.0.0/4", AddressClass::kReserved, "RFC 1112: reserved for future use"},
    {"::/128", AddressClass::kUnspecified, "RFC 4291"},
    {"::1/128", AddressClass::kLoopback, "RFC 4291"},
    {"100::/64", AddressClass::kReserved, "RFC 6666: discard-only"},
    {"2001:10::/28", AddressClass::kReserved, "RFC 4843: ORCHID (deprecated)"},
    {"2001:20::/28", AddressClass::kReserved, "RFC 7343: ORCHIDv2, not routed"},
    {"2001:db8::/32", AddressClass::kDocumentation, "RFC 3849"},
    {"3fff::/20", AddressClass::kDocumentation, "RFC 9637"},
    {"fc00::/7", AddressClass::kUniqueLocal, "RFC 4193"},
    {"fe80::/10", AddressClass::kLinkLocal, "RFC 4291"},
    {"fec0::/10", AddressClass::kUniqueLocal, "RFC 3879: deprecated site-local"},
    {"ff00::/8", AddressClass::kMulticast, "RFC 4291"},
};

NetPrefix prefix_of(const char* cidr) {
  auto p = parse_cidr(cidr);
  if (!p) std::abort();  // a typo in a table above: a programmer bug
  return *p;
}

const std::vector<std::pair<NetPrefix, AddressClass>>& special_blocks() {
  static const auto* blocks = [] {
    auto* v = new std::vector<std::pair<NetPrefix, AddressClass>>;
    for (const auto& b : kSpecialBlocks) v->emplace_back(prefix_of(b.cidr), b.kind);
    return v;
  }();
  return *blocks;
}

AddressClass lookup_blocks(const NetAddress& a) {
  for (const auto& [prefix, kind] : special_blocks()) {
    if (contains(prefix, a)) return kind;
  }
  return AddressClass::kPublic;
}

NetAddress v4_at(const NetAddress& a, int offset, uint8_t invert = 0) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(a.bytes[offset + i] ^ invert);
  return NetAddress::v4(v);
}

bool zero_bytes(const NetAddress& a, int from, int to) {
  for (int i = from; i < to; ++i) {
    if (a.bytes[i] != 0) return false;
  }
  return true;
}

// 64:ff9b:1::/48 (RFC 8215) lets the operator pick the layout; hull reads the
// /96 one that DNS64 uses by default, where bits 48..95 are zero.
const NetPrefix& local_nat64() {
  static const NetPrefix p = prefix_of("64:ff9b:1::/48");
  return p;
}

}  // namespace

std::vector<std::pair<Embedding, NetAddress>> embedded_ipv4(const NetAddress& a) {
  static const NetPrefix mapped = prefix_of("::ffff:0:0/96");
  static const NetPrefix translated = prefix_of("::ffff:0:0:0/96");
  static const NetPrefix compatible = prefix_of("::/96");
  static const NetPrefix nat64 = prefix_of("64:ff9b::/96");
  static const NetPrefix six_to_four = prefix_of("2002::/16");
  static const NetPrefix teredo = prefix_of("2001::/32");
  std::vector<std::pair<Embedding, NetAddress>> out;
  if (a.is_v4()) return out;
  if (contains(mapped, a)) out.emplace_back(Embedding::kIpv4Mapped, v4_at(a, 12));
  if (contains(translated, a)) out.emplace_back(Embedding::kIpv4Translated, v4_at(a, 12));
  if (contains(compatible, a)) out.emplace_back(Embedding::kIpv4Compatible, v4_at(a, 12));
  if (contains(nat64, a)) out.emplace_back(Embedding::kNat64, v4_at(a, 12));
  if (contains(local_nat64(), a) && zero_bytes(a, 6, 12)) {
    out.emplace_back(Embedding::kNat64, v4_at(a, 12));
  }
  if (contains(six_to_four, a)) out.emplace_back(Embedding::k6to4, v4_at(a, 2));
  if (contains(teredo, a)) {
    out.emplace_back(Embedding::kTeredoServer, v4_at(a, 4));
    out.emplace_back(Embedding::kTeredoClient, v4_at(a, 12, 0xff));
  }
  return out;
}

AddressVerdict classify(const NetAddress& a) {
  AddressVerdict v;
  v.kind = lookup_blocks(a);
  if (a.is_v4() || v.kind != AddressClass::kPublic) return v;
  for (const auto& [how, inner] : embedded_ipv4(a)) {
    AddressClass k = lookup_blocks(inner);
    if (k != AddressClass::kPublic) return AddressVerdict{k, how, inner};
  }
  // Outside 2000::/3 IANA has allocated no global unicast; the forms above
  // that live there (::/96, 64:ff9b::/96) have been looked through already.
  // A 64:ff9b:1::/48 address in a layout hull does not decode lands here too:
  // refused, not guessed.
  if ((a.bytes[0] & 0xe0) != 0x20 && embedded_ipv4(a).empty()) v.kind = AddressClass::kReserved;
  return v;
}

std::string_view class_name(AddressClass c) {
  switch (c) {
    case AddressClass::kPublic:
      return "public";
    case AddressClass::kUnspecified:
      return "unspecified (a connection to it reaches this host)";
    case AddressClass::kThisNetwork:
      return "\"this network\" (0.0.0.0/8)";
    case AddressClass::kLoopback:
      return "loopback";
    case AddressClass::kLinkLocal:
      return "link-local (cloud metadata lives here)";
    case AddressClass::kPrivate:
      return "private (RFC 1918)";
    case AddressClass::kSharedCgnat:
      return "shared carrier-grade NAT (100.64.0.0/10)";
    case AddressClass::kUniqueLocal:
      return "unique local (private IPv6)";
    case AddressClass::kMulticast:
      return "multicast";
    case AddressClass::kBroadcast:
      return "broadcast";
    case AddressClass::kReserved:
      return "reserved (no public host lives there)";
    case AddressClass::kBenchmarking:
      return "benchmarking (198.18.0.0/15)";
    case AddressClass::kDocumentation:
      return "documentation (example addresses)";
  }
  return "unknown";
}

std::string_view embedding_name(Embedding e) {
  switch (e) {
    case Embedding::kNone:
      return "none";
    case Embedding::kIpv4Mapped:
      return "IPv4-mapped";
    case Embedding::kIpv4Compatible:
      return "IPv4-compatible";
    case Embedding::kIpv4Translated:
      return "IPv4-translated";
    case Embedding::kNat64:
      return "NAT64";
    case Embedding::k6to4:
      return "6to4";
    case Embedding::kTeredoServer:
      return "Teredo server";
    case Embedding::kTeredoClient:
      return "Teredo client";
  }
  return "unknown";
}

std::string explain(const AddressVerdict& v) {
  std::string out(class_name(v.kind));
  if (v.via != Embedding::kNone) {
    const std::string_view how = embedding_name(v.via);
    out += ": " + to_string(v.embedded) + (how.front() == 'I' ? " inside an " : " inside a ") +
           std::string(how) + " address";
  }
  return out;
}

}  // namespace hull::policy
