// IP literals in every encoding a client writes, CIDR prefixes, and the
// classification that keeps names away from non-public addresses.
#include <gtest/gtest.h>

#include <string>

#include "policy/address_class.h"
#include "policy/net_address.h"

namespace hull::policy {
namespace {

constexpr const char* kNotLiteral = "<name>";
constexpr const char* kMalformed = "<error>";

NetAddress addr(const std::string& text) {
  auto r = parse_ip_literal(text);
  if (!r || !*r) {
    ADD_FAILURE() << "not an address: " << text;
    return {};
  }
  return **r;
}

TEST(NetAddressParse, ReadsEveryEncodingAClientMightWrite) {
  struct Case {
    const char* in;
    const char* want;  // canonical text, kNotLiteral or kMalformed
  };
  const Case cases[] = {
      {"127.0.0.1", "127.0.0.1"},
      {"127.1", "127.0.0.1"},
      {"10.1.2", "10.1.0.2"},
      {"2130706433", "127.0.0.1"},
      {"0x7f000001", "127.0.0.1"},
      {"0X7F000001", "127.0.0.1"},
      {"0177.0.0.1", "127.0.0.1"},
      {"0x7f.1", "127.0.0.1"},
      {"017700000001", "127.0.0.1"},
      {"0x7f.0.0.0x1", "127.0.0.1"},
      {"0xa9.0xfe.0xa9.0xfe", "169.254.169.254"},
      {"0251.0376.0251.0376", "169.254.169.254"},
      {"127.0.0.1.", "127.0.0.1"},
      {"0", "0.0.0.0"},
      {"0x", "0.0.0.0"},
      {"4294967295", "255.255.255.255"},
      {"1.2.65535", "1.2.255.255"},
      {"1.16777215", "1.255.255.255"},
      {"00000000000000000000000000010", "0.0.0.8"},
      {"4294967296", kMalformed},
      {"99999999999999999999999", kMalformed},
      {"1.2.3.256", kMalformed},
      {"256.1.1.1", kMalformed},
      {"1.2.65536", kMalformed},
      {"1.16777216", kMalformed},
      {"08.0.0.1", kMalformed},
      {"1.2.3.4.5", kMalformed},
      {"1..2.3", kMalformed},
      {"example.123", kMalformed},
      {"example.0x1", kMalformed},
      {"127.0.0.1..", kNotLiteral},  // a name with an empty label: normalize_host refuses it
      {"example.com", kNotLiteral},
      {"1.2.3.x", kNotLiteral},
      {"0x1g", kNotLiteral},
      {"123.example", kNotLiteral},
      {"", kNotLiteral},
      {"[::1]", "::1"},
      {"::1", "::1"},
      {"[::]", "::"},
      {"[::ffff:127.0.0.1]", "::ffff:127.0.0.1"},
      {"[::ffff:7f00:1]", "::ffff:127.0.0.1"},
      {"[64:ff9b::a9fe:a9fe]", "64:ff9b::a9fe:a9fe"},
      {"[2001:DB8:0:0:0:0:0:1]", "2001:db8::1"},
      {"[2001:db8:0:0:1:0:0:1]", "2001:db8::1:0:0:1"},
      {"[2001:0:0:1:0:0:0:1]", "2001:0:0:1::1"},
      {"[1:0:2:3:4:5:6:7]", "1:0:2:3:4:5:6:7"},
      {"[1:2:3:4:5:6:7::]", "1:2:3:4:5:6:7:0"},
      {"[1:2:3:4:5:6:1.2.3.4]", "1:2:3:4:5:6:102:304"},
      {"[fe80::1%eth0]", kMalformed},
      {"[fe80::1%25eth0]", kMalformed},
      {"[::1", kMalformed},
      {"[]", kMalformed},
      {"[1.2.3.4]", kMalformed},
      {"[1:2:3:4:5:6:7:8:9]", kMalformed},
      {"[1:2:3:4:5:6:7:8::]", kMalformed},
      {"[1::2::3]", kMalformed},
      {"[12345::]", kMalformed},
      {"[1:]", kMalformed},
      {"[:1]", kMalformed},
      {"[::ffff:127.0.0.01]", kMalformed},
      {"[::ffff:127.1]", kMalformed},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    auto r = parse_ip_literal(c.in);
    if (c.want == kMalformed) {
      ASSERT_FALSE(r.ok());
      EXPECT_NE(r.error().message().find(c.in), std::string::npos) << r.error().message();
    } else if (c.want == kNotLiteral) {
      ASSERT_TRUE(r.ok()) << r.error().message();
      EXPECT_FALSE(r->has_value());
    } else {
      ASSERT_TRUE(r.ok()) << r.error().message();
      ASSERT_TRUE(r->has_value());
      EXPECT_EQ(to_string(**r), c.want);
    }
  }
}

TEST(NetAddressParse, AZoneIdIsRefusedSayingSo) {
  auto r = parse_ip_literal("[fe80::1%eth0]");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("zone id"), std::string::npos);
}

TEST(NetAddressParse, CanonicalTextParsesBackToTheSameAddress) {
  for (const char* text :
       {"127.0.0.1", "[::ffff:127.0.0.1]", "[2001:db8::1:0:0:1]", "[::]", "[fe80::]"}) {
    SCOPED_TRACE(text);
    NetAddress a = addr(text);
    EXPECT_EQ(addr(to_host_text(a)), a);
  }
}

TEST(NetAddressCidr, ParsesStrictlyAndNamesThePrefixThatWasMeant) {
  struct Case {
    const char* in;
    const char* want;  // canonical, or "!" + a substring of the error
  };
  const Case cases[] = {
      {"10.0.0.0/8", "10.0.0.0/8"},
      {"0.0.0.0/0", "0.0.0.0/0"},
      {"10.0.0.5", "10.0.0.5/32"},
      {"fd00::/8", "[fd00::]/8"},
      {"[fd00::]/8", "[fd00::]/8"},
      {"[::1]", "[::1]/128"},
      {"::/0", "[::]/0"},
      {"10.0.0.1/8", "!did you mean 10.0.0.0/8"},
      {"10.0.0.0/33", "!over 32"},
      {"[fd00::]/129", "!over 128"},
      {"10.0.0.0/08", "!not a number"},
      {"10.0.0.0/", "!not a number"},
      {"10/8", "!dotted quad"},
      {"127.1/32", "!dotted quad"},
      {"010.0.0.0/8", "!dotted quad"},
      {"[10.0.0.0]/8", "!brackets are for IPv6"},
      {"[fd00::/8", "!'[' without ']'"},
      {"[fd00::]x", "!after ']'"},
      {"[fe80::%eth0]/64", "!zone"},
      {"fd00:::/8", "!not a valid IPv6"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    auto r = parse_cidr(c.in);
    std::string want = c.want;
    if (want[0] == '!') {
      ASSERT_FALSE(r.ok());
      EXPECT_NE(r.error().message().find(want.substr(1)), std::string::npos) << r.error().message();
      EXPECT_NE(r.error().message().find("10.0.0.0/8"), std::string::npos) << "shows an example";
    } else {
      ASSERT_TRUE(r.ok()) << r.error().message();
      EXPECT_EQ(to_string(*r), want);
      auto back = parse_cidr(to_string(*r));
      ASSERT_TRUE(back.ok());
      EXPECT_EQ(*back, *r);
    }
  }
}

TEST(NetAddressCidr, ContainsComparesTheLeadingBitsOfOneFamily) {
  struct Case {
    const char* cidr;
    const char* address;
    bool want;
  };
  const Case cases[] = {
      {"10.0.0.0/8", "10.255.1.2", true},
      {"10.0.0.0/8", "11.0.0.0", false},
      {"172.16.0.0/12", "172.31.0.1", true},
      {"172.16.0.0/12", "172.32.0.1", false},
      {"0.0.0.0/0", "8.8.8.8", true},
      {"10.0.0.5/32", "10.0.0.5", true},
      {"10.0.0.5/32", "10.0.0.4", false},
      {"fe80::/10", "[febf::1]", true},
      {"fe80::/10", "[fec0::1]", false},
      {"::/0", "[2001:db8::1]", true},
      {"10.0.0.0/8", "[::ffff:10.0.0.1]", false},  // no looking through here
      {"::/0", "10.0.0.1", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.cidr) + " " + c.address);
    auto p = parse_cidr(c.cidr);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(contains(*p, addr(c.address)), c.want);
  }
}

TEST(NetAddressClass, ClassifiesEveryNonPublicBlockAndLooksThroughEmbeddedIpv4) {
  using C = AddressClass;
  using E = Embedding;
  struct Case {
    const char* address;
    C kind;
    E via;
  };
  const Case cases[] = {
      {"8.8.8.8", C::kPublic, E::kNone},
      {"1.1.1.1", C::kPublic, E::kNone},
      {"0.0.0.0", C::kUnspecified, E::kNone},
      {"0.1.2.3", C::kThisNetwork, E::kNone},
      {"127.0.0.1", C::kLoopback, E::kNone},
      {"127.255.255.254", C::kLoopback, E::kNone},
      {"10.0.0.1", C::kPrivate, E::kNone},
      {"172.16.0.1", C::kPrivate, E::kNone},
      {"172.31.255.255", C::kPrivate, E::kNone},
      {"172.32.0.1", C::kPublic, E::kNone},
      {"192.168.1.1", C::kPrivate, E::kNone},
      {"100.64.0.1", C::kSharedCgnat, E::kNone},
      {"100.127.255.255", C::kSharedCgnat, E::kNone},
      {"100.128.0.0", C::kPublic, E::kNone},
      {"169.254.169.254", C::kLinkLocal, E::kNone},
      {"224.0.0.1", C::kMulticast, E::kNone},
      {"239.255.255.250", C::kMulticast, E::kNone},
      {"255.255.255.255", C::kBroadcast, E::kNone},
      {"240.0.0.1", C::kReserved, E::kNone},
      {"192.0.0.8", C::kReserved, E::kNone},
      {"198.18.0.1", C::kBenchmarking, E::kNone},
      {"198.19.255.255", C::kBenchmarking, E::kNone},
      {"198.20.0.0", C::kPublic, E::kNone},
      {"192.0.2.1", C::kDocumentation, E::kNone},
      {"198.51.100.1", C::kDocumentation, E::kNone},
      {"203.0.113.1", C::kDocumentation, E::kNone},
      {"[::]", C::kUnspecified, E::kNone},
      {"[::1]", C::kLoopback, E::kNone},
      {"[::ffff:127.0.0.1]", C::kLoopback, E::kIpv4Mapped},
      {"[::ffff:7f00:1]", C::kLoopback, E::kIpv4Mapped},
      {"[::ffff:8.8.8.8]", C::kPublic, E::kNone},
      {"[::127.0.0.1]", C::kLoopback, E::kIpv4Compatible},
      {"[::ffff:0:10.0.0.1]", C::kPrivate, E::kIpv4Translated},
      {"[64:ff9b::a9fe:a9fe]", C::kLinkLocal, E::kNat64},
      {"[64:ff9b::808:808]", C::kPublic, E::kNone},
      {"[64:ff9b:1::a00:1]", C::kPrivate, E::kNat64},
      {"[64:ff9b:1:1::1]", C::kReserved, E::kNone},  // a layout hull does not decode
      {"[2002:a9fe:a9fe::]", C::kLinkLocal, E::k6to4},
      {"[2002:808:808::1]", C::kPublic, E::kNone},
      // Teredo: server 8.8.8.8, client ~0x80fffffe = 127.0.0.1.
      {"[2001:0:808:808::80ff:fffe]", C::kLoopback, E::kTeredoClient},
      {"[2001:0:a00:1::f7f7:f7f7]", C::kPrivate, E::kTeredoServer},
      {"[2001:0:808:808::f7f7:f7f7]", C::kPublic, E::kNone},
      {"[fe80::1]", C::kLinkLocal, E::kNone},
      {"[febf::1]", C::kLinkLocal, E::kNone},
      {"[fec0::1]", C::kUniqueLocal, E::kNone},
      {"[fc00::1]", C::kUniqueLocal, E::kNone},
      {"[fd12:3456::1]", C::kUniqueLocal, E::kNone},
      {"[ff02::1]", C::kMulticast, E::kNone},
      {"[2001:db8::1]", C::kDocumentation, E::kNone},
      {"[3fff::1]", C::kDocumentation, E::kNone},
      {"[100::1]", C::kReserved, E::kNone},
      {"[2001:10::1]", C::kReserved, E::kNone},
      {"[4000::1]", C::kReserved, E::kNone},
      {"[::2:3:4:5]", C::kReserved, E::kNone},
      {"[2606:4700::1111]", C::kPublic, E::kNone},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.address);
    AddressVerdict v = classify(addr(c.address));
    EXPECT_EQ(v.kind, c.kind) << explain(v);
    EXPECT_EQ(v.via, c.via) << explain(v);
    EXPECT_EQ(is_public(addr(c.address)), c.kind == C::kPublic);
  }
}

TEST(NetAddressClass, ExplainsWhichEmbeddedAddressDecided) {
  EXPECT_EQ(explain(classify(addr("[2001:0:808:808::80ff:fffe]"))),
            "loopback: 127.0.0.1 inside a Teredo client address");
  EXPECT_EQ(explain(classify(addr("169.254.169.254"))), "link-local (cloud metadata lives here)");
  EXPECT_EQ(explain(classify(addr("10.1.2.3"))), "private (RFC 1918)");
}

TEST(NetAddressClass, ListsEveryIpv4AnIpv6AddressCarries) {
  auto teredo = embedded_ipv4(addr("[2001:0:808:808::80ff:fffe]"));
  ASSERT_EQ(teredo.size(), 2u);
  EXPECT_EQ(teredo[0], std::pair(Embedding::kTeredoServer, addr("8.8.8.8")));
  EXPECT_EQ(teredo[1], std::pair(Embedding::kTeredoClient, addr("127.0.0.1")));
  EXPECT_TRUE(embedded_ipv4(addr("10.0.0.1")).empty());
  EXPECT_TRUE(embedded_ipv4(addr("[2606:4700::1111]")).empty());
}

}  // namespace
}  // namespace hull::policy
