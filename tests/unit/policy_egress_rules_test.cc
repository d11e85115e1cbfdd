// Egress rules: their syntax, request paths, presets, and the three-step
// decision (host, addresses, request) with the refusal text an agent reads.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policy/egress_decision.h"
#include "policy/egress_path.h"

namespace hull::policy {
namespace {

TEST(EgressRuleParse, ReadsEveryFormAndPrintsItCanonically) {
  struct Case {
    const char* in;
    const char* want;  // canonical text, or "!" + a substring of the error
  };
  const Case cases[] = {
      {"example.com", "example.com"},
      {"EXAMPLE.COM.", "example.com"},
      {"münchen.de", "xn--mnchen-3ya.de"},
      {"*.example.com", "*.example.com"},
      {"api.example.com:443", "api.example.com:443"},
      {"*", "*"},
      {"*:443", "*:443"},
      {"10.0.0.0/8", "10.0.0.0/8"},
      {"10.0.0.0/8:443", "10.0.0.0/8:443"},
      {"10.0.0.5", "10.0.0.5/32"},
      {"10.0.0.5:8080", "10.0.0.5/32:8080"},
      {"[fd00::]/8:443", "[fd00::]/8:443"},
      {"fd00::/8", "[fd00::]/8"},
      {"[::1]:443", "[::1]/128:443"},
      {"GET,HEAD github.com/*", "GET,HEAD github.com/*"},
      {"HEAD,GET,GET github.com/*", "GET,HEAD github.com/*"},
      {"POST github.com/*/git-receive-pack", "POST github.com/*/git-receive-pack"},
      {"* github.com/*", "* github.com/*"},
      {"GET *.github.com:8443/api//%7ex/*", "GET *.github.com:8443/api/~x/*"},
      {"", "!empty"},
      {"example.com:0", "!1 to 65535"},
      {"example.com:65536", "!1 to 65535"},
      {"example.com:http", "!1 to 65535"},
      {"example.com:", "!1 to 65535"},
      {":443", "!no host"},
      {"*.*.example.com", "!*.example.com"},
      {"ex*ample.com", "!*.example.com"},
      {"a@b.com", "!userinfo"},
      {"https://example.com", "!not a URL"},
      {"github.com/*", "!'GET,HEAD github.com/*'"},
      {"*.github.com/x", "!needs methods"},
      {"get github.com/*", "!upper-case"},
      {"GET, github.com/*", "!upper-case"},
      {"GET,* github.com/*", "!'*' already means every method"},
      {"GET github.com", "!needs a path"},
      {"GET  github.com/*", "!one space"},
      {" example.com", "!one space"},
      {"GET 10.0.0.0/*", "!not '*' or an address"},
      {"GET */*", "!not '*' or an address"},
      {"GET github.com/a/../b", "!'..'"},
      {"GET github.com/a?x=1", "!query"},
      {"GET github.com/**", "!'**'"},
      {"10.0.0.1/8", "!did you mean 10.0.0.0/8"},
      {"127.1", "!127.0.0.1/32"},
      {"0x7f000001:80", "!127.0.0.1/32"},
      {"*.10.0.0.1", "!CIDR"},
      {"[fd00::/8:443", "!without ']'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    auto r = parse_egress_rule(c.in);
    std::string want = c.want;
    if (want[0] == '!') {
      ASSERT_FALSE(r.ok()) << to_string(*r);
      EXPECT_NE(r.error().message().find(want.substr(1)), std::string::npos) << r.error().message();
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(to_string(*r), want);
    auto back = parse_egress_rule(to_string(*r));
    ASSERT_TRUE(back.ok()) << back.error().message();
    EXPECT_EQ(*back, *r) << "re-printed rule parses to the same rule";
  }
}

TEST(EgressPath, RequestPathsBecomeCanonicalOrAreRefused) {
  struct Case {
    const char* in;
    const char* want;  // canonical path, or "!" + a substring of the error
  };
  const Case cases[] = {
      {"/", "/"},
      {"/a/b?x=1", "/a/b"},
      {"/a//b", "/a/b"},
      {"/%7euser/%41", "/~user/A"},
      {"/a%3ab%2a", "/a%3Ab%2A"},
      {"/a.b/.c/..d", "/a.b/.c/..d"},
      {"a", "!starts with '/'"},
      {"*", "!starts with '/'"},
      {"/a%2fb", "!escaped '/'"},
      {"/a%5Cb", "!escaped '/'"},
      {"/a/../b", "!'..'"},
      {"/a/./b", "!'..'"},
      {"/a/%2e%2E/b", "!'..'"},
      {"/a/..", "!'..'"},
      {"/a b", "!percent-encode"},
      {"/a\\b", "!percent-encode"},
      {"/a#b", "!percent-encode"},
      {"/\xc3\xa9", "!percent-encode"},
      {"/%zz", "!two hex digits"},
      {"/%4", "!two hex digits"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    auto r = canonical_request_path(c.in);
    std::string want = c.want;
    if (want[0] == '!') {
      ASSERT_FALSE(r.ok()) << *r;
      EXPECT_NE(r.error().message().find(want.substr(1)), std::string::npos) << r.error().message();
    } else {
      ASSERT_TRUE(r.ok()) << r.error().message();
      EXPECT_EQ(*r, want);
    }
  }
  EXPECT_FALSE(canonical_request_path(std::string(8193, 'a').insert(0, "/")).ok());
}

TEST(EgressPath, StarIsOneOrMoreCharactersAndTrailingSlashStarIsTheSubtree) {
  struct Case {
    const char* pattern;
    const char* path;
    bool want;
  };
  const Case cases[] = {
      {"/*", "/", true},
      {"/*", "/a/b", true},
      {"/repos/*", "/repos", true},
      {"/repos/*", "/repos/", true},
      {"/repos/*", "/repos/a/b", true},
      {"/repos/*", "/reposx", false},
      {"/*/git-receive-pack", "/o/r.git/git-receive-pack", true},
      {"/*/git-receive-pack", "/git-receive-pack", false},
      {"/*/git-receive-pack", "/o/r.git/git-receive-pack/x", false},
      {"/a*b", "/ab", false},
      {"/a*b", "/axb", true},
      {"/a*b", "/ax/yb", true},
      {"/a*", "/a", false},
      {"/exact", "/exact", true},
      {"/exact", "/exact/", false},
      {"/Exact", "/exact", false},
      {"/a/*/c/*", "/a/b/c", true},
      {"/a/*/c/*", "/a/c", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.pattern) + " ~ " + c.path);
    EXPECT_EQ(path_matches(c.pattern, c.path), c.want);
  }
}

TEST(EgressPresets, BalancedHostsAreNormalNamesEachWithAReason) {
  for (const auto& h : balanced_hosts()) {
    SCOPED_TRACE(h.host);
    auto n = normalize_host(h.host);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(n->text, h.host);
    EXPECT_FALSE(n->is_address());
    EXPECT_GT(std::string(h.why).size(), 5u);
  }
  for (auto p : {Preset::kLocked, Preset::kBalanced, Preset::kOpen}) {
    auto back = parse_preset(preset_name(p));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, p);
  }
  auto bad = parse_preset("permissive");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("locked, balanced"), std::string::npos);
}

TEST(EgressPresets, AnImageNamesOnlyHostsNeverAddressesOrWildcards) {
  EXPECT_TRUE(parse_image_source("deb.debian.org").ok());
  EXPECT_TRUE(parse_image_source("mirror.corp.example:8080").ok());
  for (const char* bad : {"10.0.0.0/8", "*.corp.example", "*", "GET a.example/*", "10.0.0.5"}) {
    SCOPED_TRACE(bad);
    auto r = parse_image_source(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message().find("--allow"), std::string::npos);
  }
}

}  // namespace
}  // namespace hull::policy
