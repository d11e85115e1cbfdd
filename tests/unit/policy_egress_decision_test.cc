// The egress decision, step by step: host, resolved addresses, request.
// Each case reads: under this policy, this attempt is allowed or refused,
// by this rule, and a refusal names the flag that would allow it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policy/egress_decision.h"

namespace hull::policy {
namespace {

struct PolicyText {
  PolicyText(Preset p = Preset::kBalanced, std::vector<std::string> a = {},
             std::vector<std::string> d = {}, std::vector<std::string> s = {})
      : preset(p), allow(std::move(a)), deny(std::move(d)), image_sources(std::move(s)) {}
  Preset preset;
  std::vector<std::string> allow;
  std::vector<std::string> deny;
  std::vector<std::string> image_sources;
};

EgressPolicy make_policy(const PolicyText& t) {
  EgressPolicy p;
  p.preset = t.preset;
  auto add = [](std::vector<EgressRule>& to, const std::string& text) {
    auto r = parse_egress_rule(text);
    if (!r) {
      ADD_FAILURE() << r.error().message();
      return;
    }
    to.push_back(*r);
  };
  for (const auto& a : t.allow) add(p.allow, a);
  for (const auto& d : t.deny) add(p.deny, d);
  for (const auto& s : t.image_sources) {
    auto r = parse_image_source(s);
    if (r) p.image_sources.push_back(*r);
  }
  return p;
}

NormalizedHost host(const std::string& raw) {
  auto h = normalize_host(raw);
  if (!h) ADD_FAILURE() << h.error().message();
  return h ? *h : NormalizedHost{};
}

NetAddress addr(const std::string& text) { return *host(text).address; }

struct Expect {
  bool allowed;
  std::string rule;  // equal
  std::string fix;   // equal ("" = none)
};

void check(const EgressDecision& d, const Expect& e) {
  EXPECT_EQ(d.allowed, e.allowed) << d.reason;
  EXPECT_EQ(d.rule, e.rule) << d.reason;
  const bool drop = e.fix.starts_with("drop ");
  EXPECT_EQ(d.fix, drop ? e.fix + " (a deny rule wins over every allow)" : e.fix) << d.reason;
  EXPECT_FALSE(d.reason.empty());
  EXPECT_EQ(d.reason.find('\n'), std::string::npos);
}

const PolicyText kLocked{Preset::kLocked};
const PolicyText kOpen{Preset::kOpen};

TEST(EgressDecideHost, DenyWinsWildcardsSkipTheApexAndAddressesNeedCidr) {
  struct Case {
    PolicyText policy;
    const char* host;
    uint16_t port;
    Expect want;
  };
  const PolicyText api443{Preset::kLocked, {"api.example.com:443"}};
  const PolicyText subs{Preset::kLocked, {"*.example.com"}};
  const PolicyText net8080{Preset::kLocked, {"10.0.0.0/8:8080"}};
  const PolicyText mirror{Preset::kBalanced, {}, {}, {"mirror.corp.example"}};
  const PolicyText locked_mirror{Preset::kLocked, {}, {}, {"mirror.corp.example"}};
  // clang-format off
  const Case cases[] = {
      {{}, "api.anthropic.com", 443, {true, "preset balanced", ""}},
      {{}, "API.Anthropic.com.", 443, {true, "preset balanced", ""}},
      {{}, "example.com", 443, {false, "no rule allows it", "--allow example.com:443"}},
      {kLocked, "api.anthropic.com", 443, {false, "no rule allows it", "--allow api.anthropic.com:443"}},
      {api443, "api.example.com", 443, {true, "--allow api.example.com:443", ""}},
      {api443, "api.example.com", 80, {false, "no rule allows it", "--allow api.example.com:80"}},
      {subs, "a.example.com", 443, {true, "--allow '*.example.com'", ""}},
      {subs, "a.b.example.com", 443, {true, "--allow '*.example.com'", ""}},
      {subs, "example.com", 443, {false, "no rule allows it", "--allow example.com:443"}},
      {subs, "badexample.com", 443, {false, "no rule allows it", "--allow badexample.com:443"}},
      {{Preset::kLocked, {"example.com"}, {"example.com"}}, "example.com", 443,
       {false, "--deny example.com", "drop --deny example.com"}},
      {{Preset::kLocked, {"*"}, {"*.evil.com"}}, "x.evil.com", 443,
       {false, "--deny '*.evil.com'", "drop --deny '*.evil.com'"}},
      {{Preset::kOpen, {}, {"example.com:80"}}, "example.com", 80,
       {false, "--deny example.com:80", "drop --deny example.com:80"}},
      {{Preset::kOpen, {}, {"example.com:80"}}, "example.com", 443, {true, "preset open", ""}},
      {{Preset::kBalanced, {}, {"github.com"}}, "github.com", 443,
       {false, "--deny github.com", "drop --deny github.com"}},
      {kOpen, "anything.example", 8443, {true, "preset open", ""}},
      {kOpen, "8.8.8.8", 443, {false, "no CIDR rule names it", "--allow 8.8.8.8/32:443"}},
      {kOpen, "10.0.0.1", 80, {false, "no CIDR rule names it", "--allow 10.0.0.1/32:80"}},
      {{Preset::kOpen, {"*"}}, "127.1", 80, {false, "no CIDR rule names it", "--allow 127.0.0.1/32:80"}},
      {kOpen, "[::1]", 80, {false, "no CIDR rule names it", "--allow '[::1]/128:80'"}},
      {net8080, "10.0.0.5", 8080, {true, "--allow 10.0.0.0/8:8080", ""}},
      {net8080, "10.0.0.5", 80, {false, "no CIDR rule names it", "--allow 10.0.0.5/32:80"}},
      {{Preset::kLocked, {"10.0.0.0/8"}, {"10.0.0.5"}}, "10.0.0.5", 80,
       {false, "--deny 10.0.0.5/32", "drop --deny 10.0.0.5/32"}},
      {{Preset::kLocked, {"[fd00::]/8:443"}}, "[fd00::5]", 443, {true, "--allow '[fd00::]/8:443'", ""}},
      {mirror, "mirror.corp.example", 80, {true, "preset balanced", ""}},
      {locked_mirror, "mirror.corp.example", 80, {false, "no rule allows it", "--allow mirror.corp.example:80"}},
      {{Preset::kLocked, {"GET example.com/*"}}, "example.com", 443, {true, "--allow 'GET example.com/*'", ""}},
  };
  // clang-format on
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.host) + ":" + std::to_string(c.port));
    check(decide_host(make_policy(c.policy), host(c.host), c.port), c.want);
  }
}

TEST(EgressDecideAddresses, AnyNonPublicAddressRefusesTheNameUnlessACidrRuleNamesIt) {
  struct Case {
    PolicyText policy;
    std::vector<const char*> resolved;
    std::vector<const char*> own;
    Expect want;
    const char* reason_has;
  };
  const char* kBuiltIn = "non-public address (built in)";
  const PolicyText open_net10{Preset::kOpen, {"10.0.0.0/8"}};
  const PolicyText deny_net93{Preset::kOpen, {}, {"93.184.0.0/16"}};
  // clang-format off
  const Case cases[] = {
      {kOpen, {"93.184.215.14"}, {}, {true, "preset open", ""}, "preset open"},
      {kOpen, {"10.0.0.1"}, {}, {false, kBuiltIn, "--allow 10.0.0.1/32:443"}, "private (RFC 1918)"},
      {kOpen, {"169.254.169.254"}, {}, {false, kBuiltIn, "--allow 169.254.169.254/32:443"}, "cloud metadata"},
      {kOpen, {"93.184.215.14", "127.0.0.1"}, {}, {false, kBuiltIn, "--allow 127.0.0.1/32:443"}, "to 127.0.0.1"},
      {kOpen, {"[::ffff:10.0.0.5]"}, {}, {false, kBuiltIn, "--allow 10.0.0.5/32:443"}, "IPv4-mapped"},
      {kOpen, {"[64:ff9b::a9fe:a9fe]"}, {}, {false, kBuiltIn, "--allow '[64:ff9b::a9fe:a9fe]/128:443'"},
       "169.254.169.254 inside a NAT64 address"},
      {kOpen, {"[2002:a9fe:a9fe::]"}, {}, {false, kBuiltIn, "--allow '[2002:a9fe:a9fe::]/128:443'"}, "6to4"},
      {kOpen, {"[2001:0:808:808::80ff:fffe]"}, {},
       {false, kBuiltIn, "--allow '[2001:0:808:808::80ff:fffe]/128:443'"}, "127.0.0.1 inside a Teredo client"},
      {kOpen, {"203.0.114.7"}, {"203.0.114.7"}, {false, kBuiltIn, "--allow 203.0.114.7/32:443"}, "host's own"},
      {kOpen, {"[::ffff:203.0.114.7]"}, {"203.0.114.7"}, {false, kBuiltIn, "--allow 203.0.114.7/32:443"}, "own"},
      {open_net10, {"10.0.0.5"}, {}, {true, "preset open", ""}, "preset open"},
      {open_net10, {"[::ffff:10.0.0.5]"}, {}, {true, "preset open", ""}, "preset open"},
      {{Preset::kOpen, {"10.0.0.0/8:8080"}}, {"10.0.0.5"}, {}, {false, kBuiltIn, "--allow 10.0.0.5/32:443"}, "private"},
      {{Preset::kOpen, {"203.0.114.7/32"}}, {"203.0.114.7"}, {"203.0.114.7"}, {true, "preset open", ""}, "open"},
      {deny_net93, {"93.184.215.14"}, {}, {false, "--deny 93.184.0.0/16", "drop --deny 93.184.0.0/16"}, "deny"},
      {deny_net93, {"[64:ff9b::5db8:d70e]"}, {}, {false, "--deny 93.184.0.0/16", "drop --deny 93.184.0.0/16"}, "deny"},
      {{Preset::kOpen, {"10.0.0.0/8"}, {"10.0.0.0/24"}}, {"10.0.0.5"}, {},
       {false, "--deny 10.0.0.0/24", "drop --deny 10.0.0.0/24"}, "deny"},
      {kOpen, {}, {}, {false, "no address", ""}, "no address"},
      {kLocked, {"93.184.215.14"}, {}, {false, "no rule allows it", "--allow example.com:443"}, "preset locked"},
  };
  // clang-format on
  for (const auto& c : cases) {
    std::string trace;
    for (const char* r : c.resolved) trace += std::string(r) + " ";
    SCOPED_TRACE(trace);
    const EgressPolicy p = make_policy(c.policy);
    const NormalizedHost h = host("example.com");
    std::vector<NetAddress> resolved, own;
    for (const char* r : c.resolved) resolved.push_back(addr(r));
    for (const char* o : c.own) own.push_back(addr(o));
    EgressDecision d = decide_addresses(p, h, decide_host(p, h, 443), resolved, 443, own);
    check(d, c.want);
    EXPECT_NE(d.reason.find(c.reason_has), std::string::npos) << d.reason;
  }
}

TEST(EgressDecideAddresses, TheTestOnlyLoopbackExceptionLiftsExactlyOneAddressAndPort) {
  EgressPolicy p = make_policy({Preset::kLocked, {"test.example:43123", "test.example:43124"}});
  p.loopback_exceptions.emplace_back(addr("127.0.0.1"), 43123);
  p.loopback_exceptions.emplace_back(addr("10.0.0.1"), 43123);  // not loopback: ignored
  const NormalizedHost h = host("test.example");
  const std::vector<NetAddress> lo{addr("127.0.0.1")};
  EXPECT_TRUE(decide_addresses(p, h, decide_host(p, h, 43123), lo, 43123, {}).allowed);
  EXPECT_FALSE(decide_addresses(p, h, decide_host(p, h, 43124), lo, 43124, {}).allowed);
  const std::vector<NetAddress> other{addr("127.0.0.2")};
  EXPECT_FALSE(decide_addresses(p, h, decide_host(p, h, 43123), other, 43123, {}).allowed);
  const std::vector<NetAddress> priv{addr("10.0.0.1")};
  EXPECT_FALSE(decide_addresses(p, h, decide_host(p, h, 43123), priv, 43123, {}).allowed);
  const EgressDecision literal = decide_host(p, host("127.0.0.1"), 43123);
  EXPECT_TRUE(literal.allowed);
  EXPECT_EQ(literal.rule, "loopback exception (test only)");
  EXPECT_FALSE(decide_host(p, host("127.0.0.1"), 43124).allowed);
}

TEST(EgressDecideRequest, MethodPathRulesNarrowTheirHostAndDenyWins) {
  struct Case {
    PolicyText policy;
    const char* host;
    const char* method;
    const char* target;
    Expect want;
  };
  const PolicyText get_only{Preset::kLocked, {"GET,HEAD example.com/*"}};
  const PolicyText read_only_git{
      Preset::kBalanced, {"GET,HEAD github.com/*"}, {"POST github.com/*/git-receive-pack"}};
  const PolicyText no_push{Preset::kBalanced, {}, {"POST github.com/*/git-receive-pack"}};
  const std::string push_rule = "--deny 'POST github.com/*/git-receive-pack'";
  const std::string drop_push = "drop " + push_rule;
  const std::string no_l7 = "no method/path rule allows it";
  // clang-format off
  const Case cases[] = {
      {get_only, "example.com", "GET", "/x", {true, "--allow 'GET,HEAD example.com/*'", ""}},
      {get_only, "example.com", "get", "/x?y=1", {true, "--allow 'GET,HEAD example.com/*'", ""}},
      {get_only, "example.com", "HEAD", "/", {true, "--allow 'GET,HEAD example.com/*'", ""}},
      {get_only, "example.com", "POST", "/x", {false, no_l7, "--allow 'POST example.com:443/x'"}},
      {get_only, "example.com", "GET", "/a/../x", {false, "request path check", ""}},
      {get_only, "other.example", "GET", "/x", {false, "no rule allows it", "--allow other.example:443"}},
      {read_only_git, "github.com", "GET", "/o/r.git/info/refs", {true, "--allow 'GET,HEAD github.com/*'", ""}},
      {read_only_git, "github.com", "POST", "/o/r.git/git-receive-pack", {false, push_rule, drop_push}},
      {read_only_git, "github.com", "POST", "/o/r.git/git-upload-pack",
       {false, no_l7, "--allow 'POST github.com:443/o/r.git/git-upload-pack'"}},
      {read_only_git, "api.github.com", "POST", "/graphql", {true, "preset balanced", ""}},
      {no_push, "github.com", "POST", "/o/r.git/git-upload-pack", {true, "preset balanced", ""}},
      {no_push, "github.com", "POST", "/o/r.git/git-receive-pack", {false, push_rule, drop_push}},
      {no_push, "github.com", "post", "//o//r.git/git-receive-pac%6B", {false, push_rule, drop_push}},
      {no_push, "github.com", "POST", "/o/r.git/git-receive-pack/../x", {false, "request path check", ""}},
  };
  // clang-format on
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.host + c.target);
    check(decide_request(make_policy(c.policy), host(c.host), 443, c.method, c.target), c.want);
  }
}

TEST(EgressDecideRequest, OnlyHostsWithMethodPathRulesNeedInterception) {
  const EgressPolicy p = make_policy({Preset::kBalanced,
                                      {"GET,HEAD github.com/*", "GET *.example.com:8443/*"},
                                      {"POST gitlab.com/*"}});
  EXPECT_TRUE(has_request_rules(p, host("github.com"), 443));
  EXPECT_TRUE(has_request_rules(p, host("gitlab.com"), 443));
  EXPECT_TRUE(has_request_rules(p, host("a.example.com"), 8443));
  EXPECT_FALSE(has_request_rules(p, host("a.example.com"), 443));
  EXPECT_FALSE(has_request_rules(p, host("api.anthropic.com"), 443));
  EXPECT_FALSE(has_request_rules(p, host("10.0.0.1"), 443));
}

TEST(EgressDecideRequest, RuleFlagsAreShellReady) {
  auto r = parse_egress_rule("GET github.com/it's/*");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(rule_flag("--allow", *r), "--allow 'GET github.com/it'\\''s/*'");
  EXPECT_EQ(rule_flag("--deny", *parse_egress_rule("10.0.0.0/8:443")), "--deny 10.0.0.0/8:443");
}

}  // namespace
}  // namespace hull::policy
