// normalize_host: every spelling of a host becomes one text before a rule
// sees it, and the spellings that confuse URL parsers are refused.
#include <gtest/gtest.h>

#include <string>

#include "policy/host_name.h"

namespace hull::policy {
namespace {

struct Case {
  std::string in;
  std::string want;  // normalised text, or "!" + a substring of the error
  bool address = false;
};

std::string repeat(char c, size_t n) { return std::string(n, c); }

TEST(HostNameNormalize, GivesOneTextPerHostAndRefusesConfusingSpellings) {
  const std::string label63 = repeat('a', 63);
  const std::string name253 = label63 + "." + label63 + "." + label63 + "." + repeat('b', 61);
  const Case cases[] = {
      {"example.com", "example.com"},
      {"EXAMPLE.com.", "example.com"},
      {"münchen.de", "xn--mnchen-3ya.de"},
      {"MÜNCHEN.DE", "xn--mnchen-3ya.de"},
      {"faß.de", "xn--fa-hia.de"},  // non-transitional: ß stays ß
      {"ｅｘａｍｐｌｅ。com", "example.com"},
      {"_dmarc.example.com", "_dmarc.example.com"},
      {"r3---sn-abc.googlevideo.com", "r3---sn-abc.googlevideo.com"},
      {"xn--mnchen-3ya.de", "xn--mnchen-3ya.de"},
      {"localhost", "localhost"},
      {label63 + ".com", label63 + ".com"},
      {name253, name253},
      {"127.1", "127.0.0.1", true},
      {"0x7f.1", "127.0.0.1", true},
      {"017700000001", "127.0.0.1", true},
      {"2130706433", "127.0.0.1", true},
      {"127.0.0.1.", "127.0.0.1", true},
      {"１２７.０.０.１", "127.0.0.1", true},
      {"[::ffff:7f00:1]", "[::ffff:127.0.0.1]", true},
      {"[::1]", "[::1]", true},
      {"[2001:DB8::1]", "[2001:db8::1]", true},
      {"a@b.com", "!userinfo"},
      {"evil.com\\@good.com", "!'\\'"},
      {"evil.com#@good.com", "!fragment"},
      {"evil.com/x", "!'/'"},
      {"evil.com?x", "!'?'"},
      {"evil%2ecom", "!'%'"},
      {"example.com:443", "!port"},
      {"::1", "!brackets"},
      {"a b.com", "!spaces"},
      {"a\tb.com", "!control"},
      {std::string("a\0b.com", 7), "!control"},
      {"a\x7f.com", "!control"},
      {"", "!empty"},
      {".", "!empty"},
      {"a..b", "!empty label"},
      {".a.com", "!empty label"},
      {"a.com..", "!empty label"},
      {label63 + "a.com", "!over 63"},
      {name253 + "b", "!over 253"},
      {repeat('a', 1025), "!1024"},
      {"a!b.com", "!'!'"},
      {"a*b.com", "!'*'"},
      {"a／b.com", "!after IDNA"},
      {"ａ＠b.com", "!after IDNA"},
      {"example.123", "!IPv4"},
      {"1.2.3.256", "!IPv4"},
      {"[fe80::1%25eth0]", "!zone"},
      {"[1.2.3.4]", "!IPv6"},
      {"[::1]:443", "!without ']'"},
      {"\xff.com", "!IDNA"},
      {"ab--c.münchen.de", "ab--c.xn--mnchen-3ya.de"},  // IDNA only where a label needs it
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    auto r = normalize_host(c.in);
    if (c.want[0] == '!') {
      ASSERT_FALSE(r.ok()) << r->text;
      EXPECT_NE(r.error().message().find(c.want.substr(1)), std::string::npos)
          << r.error().message();
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->text, c.want);
    EXPECT_EQ(r->is_address(), c.address);
    auto again = normalize_host(r->text);
    ASSERT_TRUE(again.ok()) << again.error().message();
    EXPECT_EQ(*again, *r) << "normalising is a fixed point";
  }
}

TEST(HostNameNormalize, AnIpLiteralIsAnAddressNeverAName) {
  auto r = normalize_host("0x7f.1");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->address.has_value());
  EXPECT_EQ(to_string(*r->address), "127.0.0.1");
}

}  // namespace
}  // namespace hull::policy
