// Where a proxy request goes: CONNECT targets, absolute-form URLs and Host
// headers, with the host kept as written but never holding a byte that could
// mean something else downstream.
#include <gtest/gtest.h>

#include <string>

#include "egress/request_target.h"

namespace hull::egress {
namespace {

using namespace std::string_literals;

struct TargetCase {
  std::string text;
  bool ok;
  std::string host_or_reason;  // the host when ok, else a part of the error
  uint16_t port = 0;
  std::string origin_form = {};
};

TEST(EgressRequestTarget, ConnectTargetsNeedAHostAndAPort) {
  const TargetCase cases[] = {
      {"example.com:443", true, "example.com", 443},
      {"Example.COM:1", true, "Example.COM", 1},
      {"[::1]:8443", true, "[::1]", 8443},
      {"[::ffff:127.0.0.1]:80", true, "[::ffff:127.0.0.1]", 80},
      {"127.1:80", true, "127.1", 80},  // an IP literal in any encoding is the policy's to judge
      {"0x7f000001:80", true, "0x7f000001", 80},
      {"b\xC3\xBC"
       "cher.example:443",
       true,
       "b\xC3\xBC"
       "cher.example",
       443},
      {"example.com", false, "the port is required"},
      {"example.com:", false, "port after ':' is empty"},
      {":443", false, "host is empty"},
      {"example.com:0", false, "1-65535"},
      {"example.com:65536", false, "1-65535"},
      {"example.com:000443", false, "1-65535"},
      {"example.com:44a", false, "1-65535"},
      {"example.com:443:1", false, "1-65535"},
      {"[::1]", false, "the port is required"},
      {"[::1:443", false, "no closing ']'"},
      {"[::1]x:443", false, "only ':port'"},
      {"[fe80::1%25eth0]:443", false, "zone ids"},
      {"[v1.abc]:443", false, "zone ids"},
      {"[:::]:443", false, "IPv6 literal is malformed"},
      {"[]:443", false, "IPv6 literal is malformed"},
      {"a b:443", false, "no DNS name has"},
      {"a\\b:443", false, "no DNS name has"},
      {"user@a:443", false, "no DNS name has"},
      {"a/b:443", false, "no DNS name has"},
      {"a\r\nb:443", false, "no DNS name has"},
      {"a\0b:443"s, false, "no DNS name has"},
      {std::string(256, 'a') + ":443", false, "longer than 255"},
  };
  for (const TargetCase& c : cases) {
    auto r = parse_connect_target(c.text);
    ASSERT_EQ(r.ok(), c.ok) << c.text << ": " << (r.ok() ? "ok" : r.error().message());
    if (c.ok) {
      EXPECT_EQ(r->host, c.host_or_reason) << c.text;
      EXPECT_EQ(r->port, c.port) << c.text;
    } else {
      EXPECT_NE(r.error().detail.find(c.host_or_reason), std::string::npos) << r.error().detail;
    }
  }
}

TEST(EgressRequestTarget, AbsoluteFormIsHttpOnlyWithoutUserinfoOrFragment) {
  const TargetCase cases[] = {
      {"http://example.com/a/b?c=d", true, "example.com", 80, "/a/b?c=d"},
      {"http://example.com", true, "example.com", 80, "/"},
      {"http://example.com?q", true, "example.com", 80, "/?q"},
      {"HtTp://example.com:8080/", true, "example.com", 8080, "/"},
      {"http://[::1]/x", true, "[::1]", 80, "/x"},
      {"http://a.example/p%2F..%2F?x=%0d%0a", true, "a.example", 80, "/p%2F..%2F?x=%0d%0a"},
      {"https://example.com/", false, "CONNECT host:443"},
      {"ws://example.com/", false, "only http://"},
      {"example.com/", false, "not a URL"},
      {"http://user:pw@example.com/", false, "userinfo"},
      {"http://@example.com/", false, "userinfo"},
      {"http://example.com/#x", false, "fragment"},
      {"http://example.com#x", false, "fragment"},
      {"http:///path", false, "host is empty"},
      {"http://example.com:/", false, "port after ':' is empty"},
      {"http://exa%mple.com\\/", false, "no DNS name has"},
  };
  for (const TargetCase& c : cases) {
    auto r = parse_absolute_target(c.text);
    ASSERT_EQ(r.ok(), c.ok) << c.text << ": " << (r.ok() ? "ok" : r.error().message());
    if (c.ok) {
      EXPECT_EQ(r->authority.host, c.host_or_reason) << c.text;
      EXPECT_EQ(r->authority.port, c.port) << c.text;
      EXPECT_EQ(r->origin_form, c.origin_form) << c.text;
    } else {
      EXPECT_NE(r.error().detail.find(c.host_or_reason), std::string::npos) << r.error().detail;
    }
  }
}

TEST(EgressRequestTarget, AHostHeaderWithoutAPortMeansTheDefaultPort) {
  auto plain = parse_host_header("example.com", 80);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->port, 80);
  auto tls = parse_host_header("example.com", 443);
  ASSERT_TRUE(tls.ok());
  EXPECT_EQ(tls->port, 443);
  EXPECT_FALSE(parse_host_header("", 80).ok());
}

TEST(EgressRequestTarget, SameAuthorityIgnoresAsciiCaseOnly) {
  EXPECT_TRUE(same_authority({"Example.COM", 443}, {"example.com", 443}));
  EXPECT_TRUE(same_authority({"[2001:DB8::1]", 80}, {"[2001:db8::1]", 80}));
  EXPECT_FALSE(same_authority({"example.com", 443}, {"example.com", 444}));
  EXPECT_FALSE(same_authority({"example.com.", 443}, {"example.com", 443}));
  EXPECT_FALSE(same_authority({"\xC3\x9C"
                               "x",
                               1},
                              {"\xC3\xBC"
                               "x",
                               1}));  // no Unicode folding here
}

TEST(EgressRequestTarget, AuthorityTextJoinsHostAndPort) {
  EXPECT_EQ(authority_text({"[::1]", 443}), "[::1]:443");
  EXPECT_EQ(authority_text({"a.example", 80}), "a.example:80");
}

}  // namespace
}  // namespace hull::egress
