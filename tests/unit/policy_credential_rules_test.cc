// --credential parsing, the built-in provider table and header rendering:
// what a rule may name, and that a rendered value can never split a request
// or show up in an error.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "policy/credential_rules.h"

namespace hull::policy {
namespace {

std::vector<std::string> described(const CredentialSet& set) {
  std::vector<std::string> out;
  for (const auto& r : set.rules) out.push_back(r.describe());
  return out;
}

struct Accepted {
  std::string arg;
  std::vector<std::string> rules;  // describe() of each
  std::vector<EnvPlaceholder> env;
};

TEST(CredentialRules, AcceptedArgumentsBecomeTheseRules) {
  const std::vector<Accepted> cases = {
      {"anthropic",
       {"api.anthropic.com:443 x-api-key: {secret:anthropic}"},
       {{"ANTHROPIC_API_KEY", "hull-placeholder-anthropic"}}},
      {"openai",
       {"api.openai.com:443 Authorization: Bearer {secret:openai}"},
       {{"OPENAI_API_KEY", "hull-placeholder-openai"}}},
      {"gemini",
       {"generativelanguage.googleapis.com:443 x-goog-api-key: {secret:gemini}"},
       {{"GEMINI_API_KEY", "hull-placeholder-gemini"},
        {"GOOGLE_API_KEY", "hull-placeholder-gemini"}}},
      {"github",
       {"api.github.com:443 Authorization: Bearer {secret:github}",
        "uploads.github.com:443 Authorization: Bearer {secret:github}",
        "github.com:443 Authorization: Basic {basic:x-access-token:github}"},
       {{"GH_TOKEN", "hull-placeholder-github"}, {"GITHUB_TOKEN", "hull-placeholder-github"}}},
      {"github=github-work",
       {"api.github.com:443 Authorization: Bearer {secret:github-work}",
        "uploads.github.com:443 Authorization: Bearer {secret:github-work}",
        "github.com:443 Authorization: Basic {basic:x-access-token:github-work}"},
       {{"GH_TOKEN", "hull-placeholder-github"}, {"GITHUB_TOKEN", "hull-placeholder-github"}}},
      {"api.example.com=Authorization:Bearer {secret:example}",
       {"api.example.com:443 Authorization: Bearer {secret:example}"},
       {}},
      {"API.Example.COM.:8443=x-key: \t{secret:k}", {"api.example.com:8443 x-key: {secret:k}"}, {}},
      {"10.0.0.5=x-key:{secret:k}", {"10.0.0.5:443 x-key: {secret:k}"}, {}},
      {"[2001:DB8:0::1]:444=x-key:{secret:k}", {"[2001:db8::1]:444 x-key: {secret:k}"}, {}},
      {"h.example=x:{{literal}} {secret:k}", {"h.example:443 x: {{literal}} {secret:k}"}, {}},
      {"h.example=Authorization:Basic {basic:me@corp:k}",
       {"h.example:443 Authorization: Basic {basic:me@corp:k}"},
       {}},
      {"xn--bcher-kva.example=x:{secret:k}", {"xn--bcher-kva.example:443 x: {secret:k}"}, {}},
  };
  for (const auto& c : cases) {
    auto set = parse_credential(c.arg);
    ASSERT_TRUE(set.ok()) << c.arg << ": " << set.error().message();
    EXPECT_EQ(described(*set), c.rules) << c.arg;
    EXPECT_EQ(set->env, c.env) << c.arg;
    for (const auto& r : set->rules) EXPECT_EQ(r.origin, c.arg);
  }
}

TEST(CredentialRules, RefusedArgumentsSayWhy) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "no built-in provider"},
      {"nosuch", "no built-in provider"},
      {"nosuch=secret", "is no built-in provider"},
      {"anthropic=Bad", "is not a secret name"},
      {"*.example.com=x:{secret:k}", "wildcard"},
      {"127.1=x:{secret:k}", "is not a host name"},
      {"2130706433=x:{secret:k}", "is not a host name"},
      {"0x7f.0.0.1=x:{secret:k}", "is not a host name"},
      {"exa mple.com=x:{secret:k}", "is not a host name"},
      {"-bad.example=x:{secret:k}", "is not a host name"},
      {"b\xc3\xbc"
       "cher.example=x:{secret:k}",
       "xn--"},
      {"=x:{secret:k}", "is not a host name"},
      {"h.example:0=x:{secret:k}", "is not a port"},
      {"h.example:70000=x:{secret:k}", "is not a port"},
      {"h.example:=x:{secret:k}", "port after ':' is empty"},
      {"::1=x:{secret:k}", "brackets"},
      {"[::1=x:{secret:k}", "without ']'"},
      {"[not-v6]=x:{secret:k}", "not an IPv6 address"},
      {"h.example=Host:{secret:k}", "never sets the Host header"},
      {"h.example=content-length:{secret:k}", "never sets the content-length header"},
      {"h.example=Proxy-Authorization:{secret:k}", "never sets"},
      {"h.example=Transfer-Encoding:{secret:k}", "never sets"},
      {"h.example=bad header:{secret:k}", "is not a header name"},
      {"h.example=:{secret:k}", "is not a header name"},
      {"h.example=x:Bearer fixed-token", "names no secret"},
      {"h.example=x:", "names no secret"},
      {"h.example=x:{secret:Bad}", "names no valid secret"},
      {"h.example=x:{secret:}", "names no valid secret"},
      {"h.example=x:{env:HOME}", "is not a reference hull knows"},
      {"h.example=x:{secret:k", "never closed"},
      {"h.example=x:a}b {secret:k}", "closes nothing"},
      {"h.example=x:{basic:k}", "needs a user"},
      {"h.example=x:{basic::k}", "no valid user"},
      {"h.example=x:a\r\nInjected: 1 {secret:k}", "control or non-ASCII"},
      {"h.example=x:" + std::string(1100, 'a') + "{secret:k}", "over 1 KiB"},
  };
  for (const auto& [arg, why] : cases) {
    auto set = parse_credential(arg);
    ASSERT_FALSE(set.ok()) << arg;
    EXPECT_NE(set.error().message().find(why), std::string::npos)
        << arg << " → " << set.error().message();
  }
}

TEST(CredentialRules, EveryBuiltinProviderIsEnabledByNamingItsSecret) {
  for (const auto& p : builtin_providers()) {
    std::string name(p.name);
    auto set = parse_credential(name);
    ASSERT_TRUE(set.ok()) << name << ": " << set.error().message();
    EXPECT_EQ(set->secrets(), std::vector<std::string>{name});
    EXPECT_EQ(set->rules.size(), p.headers.size());
    EXPECT_FALSE(set->env.empty()) << name << " starts no agent without its variable";
    for (const auto& e : set->env) EXPECT_EQ(e.value, "hull-placeholder-" + name);
    // A built-in row must also be writable by hand, the same way.
    for (const auto& r : set->rules) {
      auto again = parse_credential(r.host + "=" + r.header + ":" + template_text(r.value));
      ASSERT_TRUE(again.ok()) << r.describe() << ": " << again.error().message();
      EXPECT_EQ(again->rules.at(0).describe(), r.describe());
      EXPECT_EQ(r.provider, name);
    }
  }
}

TEST(CredentialRules, TheSameArgumentTwiceIsOneRuleButTwoRulesForOneHeaderAreRefused) {
  std::vector<std::string> twice = {"anthropic", "anthropic"};
  auto set = parse_credentials(twice);
  ASSERT_TRUE(set.ok()) << set.error().message();
  EXPECT_EQ(set->rules.size(), 1u);
  EXPECT_EQ(set->env.size(), 1u);

  std::vector<std::string> clash = {"anthropic", "API.anthropic.com=X-Api-Key:{secret:other}"};
  auto refused = parse_credentials(clash);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("both set X-Api-Key on api.anthropic.com:443"),
            std::string::npos)
      << refused.error().message();

  // Another port is another origin: no clash.
  std::vector<std::string> ports = {"anthropic", "api.anthropic.com:8443=x-api-key:{secret:other}"};
  EXPECT_TRUE(parse_credentials(ports).ok());
}

TEST(CredentialRules, ASetKnowsItsSecretsHostsAndTheRulesForOneOrigin) {
  std::vector<std::string> args = {"github", "openai",
                                   "api.example.com:8443=x-key:{secret:b}{secret:a}"};
  auto set = parse_credentials(args);
  ASSERT_TRUE(set.ok()) << set.error().message();
  EXPECT_EQ(set->secrets(), (std::vector<std::string>{"a", "b", "github", "openai"}));
  EXPECT_EQ(set->hosts(),
            (std::vector<std::string>{"api.example.com", "api.github.com", "api.openai.com",
                                      "github.com", "uploads.github.com"}));
  ASSERT_EQ(set->rules_for("github.com", 443).size(), 1u);
  EXPECT_EQ(set->rules_for("github.com", 443)[0]->header, "Authorization");
  EXPECT_TRUE(set->rules_for("github.com", 8443).empty());
  EXPECT_TRUE(set->rules_for("evil.github.com", 443).empty());
  EXPECT_EQ(set->rules_for("api.example.com", 8443).size(), 1u);
}

TEST(CredentialRules, TemplateTextRoundTrips) {
  for (std::string t : {"{secret:a}", "Bearer {secret:a}", "{{x}} {secret:a}}}",
                        "Basic {basic:u:a}", "a{secret:a}b{secret:b}"}) {
    auto parts = parse_template(t, "test");
    ASSERT_TRUE(parts.ok()) << t << ": " << parts.error().message();
    EXPECT_EQ(template_text(*parts), t);
    auto again = parse_template(template_text(*parts), "test");
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *parts);
  }
}

class Render : public ::testing::Test {
 protected:
  std::map<std::string, std::string> secrets_;
  SecretLookup lookup() {
    return [this](const std::string& name) -> Result<SecretBytes> {
      auto it = secrets_.find(name);
      if (it == secrets_.end()) return make_error("no secret named '" + name + "'");
      SecretBytes b(it->second.size());
      b.append(it->second);
      return b;
    };
  }
  Result<std::string> render(const std::string& arg) {
    auto set = parse_credential(arg);
    if (!set) return set.error();
    auto v = render_header_value(set->rules.at(0), lookup());
    if (!v) return v.error();
    return std::string(v->view());
  }
};

TEST_F(Render, HeaderValuesAreTheTemplateWithTheSecretsPutIn) {
  secrets_ = {{"openai", "sk-123"}, {"a", "A"},   {"b", "B\tB"}, {"gh", "ghp_abc"},
              {"c1", "c"},          {"c2", "cd"}, {"c3", "cde"}, {"github", "ghp_xyz"}};
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"openai", ""},  // replaced below: the provider reads secret "openai"
      {"h.example=Authorization:Bearer {secret:openai}", "Bearer sk-123"},
      {"h.example=x:{{x}} {secret:a}{secret:b}", "{x} AB\tB"},
      {"h.example=Authorization:Basic {basic:x-access-token:gh}",
       "Basic eC1hY2Nlc3MtdG9rZW46Z2hwX2FiYw=="},
      {"h.example=x:{basic:a:c1}", "YTpj"},
      {"h.example=x:{basic:a:c2}", "YTpjZA=="},
      {"h.example=x:{basic:a:c3}", "YTpjZGU="},
  };
  for (const auto& [arg, want] : cases) {
    if (want.empty()) continue;
    auto got = render(arg);
    ASSERT_TRUE(got.ok()) << arg << ": " << got.error().message();
    EXPECT_EQ(*got, want) << arg;
  }
  EXPECT_EQ(*render("openai"), "Bearer sk-123");
  // github.com gets Basic x-access-token:TOKEN (git), the API gets Bearer.
  auto gh = parse_credential("github");
  ASSERT_TRUE(gh.ok());
  auto basic = render_header_value(*gh->rules_for("github.com", 443).at(0), lookup());
  ASSERT_TRUE(basic.ok());
  EXPECT_EQ(basic->view(), "Basic eC1hY2Nlc3MtdG9rZW46Z2hwX3h5eg==");  // x-access-token:ghp_xyz
}

TEST_F(Render, AValueWithAControlByteIsRefusedAndNeverQuoted) {
  for (std::string bad :
       {std::string("sk-1\r\nX-Evil: 1"), std::string("sk-2\n"), std::string("sk-3\0x", 6),
        std::string("sk-4\x7f"), std::string("sk-5\x1b[31m")}) {
    secrets_ = {{"k", bad}};
    auto got = render("h.example=Authorization:Bearer {secret:k}");
    ASSERT_FALSE(got.ok()) << bad;
    EXPECT_NE(got.error().message().find("control byte"), std::string::npos)
        << got.error().message();
    EXPECT_NE(got.error().message().find("secret 'k'"), std::string::npos) << got.error().message();
    EXPECT_EQ(got.error().message().find(bad.substr(0, 4)), std::string::npos)
        << got.error().message();
  }
  // Base64 carries any byte safely.
  secrets_ = {{"k", "a\r\nb"}};
  EXPECT_TRUE(render("h.example=x:{basic:u:k}").ok());
}

TEST_F(Render, AMissingSecretIsNamedWithItsRule) {
  auto got = render("anthropic");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message().find("api.anthropic.com"), std::string::npos)
      << got.error().message();
  EXPECT_NE(got.error().message().find("secret 'anthropic'"), std::string::npos)
      << got.error().message();
}

TEST(CredentialRules, SecretNames) {
  for (const std::string& ok :
       std::vector<std::string>{"a", "0", "anthropic", "github-work", "k_2", std::string(64, 'a')})
    EXPECT_TRUE(valid_secret_name(ok)) << ok;
  for (const std::string& bad : std::vector<std::string>{"", "A", "-a", "_a", ".a", "a.b", "a/b",
                                                         "a b", "..", std::string(65, 'a'), "é"})
    EXPECT_FALSE(valid_secret_name(bad)) << bad;
}

}  // namespace
}  // namespace hull::policy
