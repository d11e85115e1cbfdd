// --credential arguments → CredentialRule values (the grammar is in the
// header), and the checks that keep a rule from reaching further than the
// host it names or from reshaping the request it rides on.
#include "policy/credential_rules.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

namespace hull::policy {

namespace {

constexpr std::string_view kHelp =
    "write PROVIDER (anthropic, openai, gemini, github), PROVIDER=SECRET, or "
    "HOST[:PORT]=HEADER:TEMPLATE, e.g. 'api.example.com=Authorization:Bearer {secret:example}'";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 9110 token.
bool valid_token(std::string_view s) {
  static constexpr std::string_view kTchar = "!#$%&'*+-.^_`|~";
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return ascii_alnum(c) || kTchar.find(c) != std::string_view::npos;
  });
}

// Headers that frame, route or upgrade the request, or talk to the proxy:
// a credential rule setting one of them could change where or what the
// request is, not just who sends it.
bool reserved_header(std::string_view name) {
  static constexpr std::array<std::string_view, 13> kReserved = {"host",
                                                                 "content-length",
                                                                 "transfer-encoding",
                                                                 "connection",
                                                                 "upgrade",
                                                                 "te",
                                                                 "trailer",
                                                                 "keep-alive",
                                                                 "expect",
                                                                 "proxy-authorization",
                                                                 "proxy-connection",
                                                                 "proxy-authenticate",
                                                                 "forwarded"};
  std::string l = lower(name);
  return std::find(kReserved.begin(), kReserved.end(), l) != kReserved.end();
}

bool valid_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t start = 0;
  std::string_view last_label;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    if (!std::all_of(label.begin(), label.end(), [](char c) { return ascii_alnum(c) || c == '-'; }))
      return false;
    last_label = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  // An all-digit last label is an IPv4 literal in some encoding ("127.1"):
  // those are only accepted in their one plain form, below.
  return !std::all_of(last_label.begin(), last_label.end(),
                      [](char c) { return c >= '0' && c <= '9'; });
}

struct HostPort {
  std::string host;
  uint16_t port = 443;
};

Result<HostPort> parse_host_port(std::string_view text, const std::string& where) {
  HostPort hp;
  std::string_view host = text, port;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos)
      return make_error(where + ": '[' without ']' in the host", std::string(kHelp));
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':'))
      return make_error(where + ": unexpected text after ']'", "write [IPV6]:PORT");
    if (!rest.empty()) port = rest.substr(1);
    in6_addr a6{};
    if (::inet_pton(AF_INET6, std::string(host).c_str(), &a6) != 1)
      return make_error(where + ": '" + std::string(host) + "' is not an IPv6 address");
    char buf[INET6_ADDRSTRLEN];
    hp.host = ::inet_ntop(AF_INET6, &a6, buf, sizeof buf);  // one spelling per address
  } else {
    size_t colon = text.rfind(':');
    if (colon != std::string_view::npos) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (host.find(':') != std::string_view::npos)
        return make_error(where + ": an IPv6 host goes in brackets", "write [IPV6]:PORT");
    }
    if (host.find('*') != std::string_view::npos)
      return make_error(where + ": '" + std::string(host) + "' has a wildcard",
                        "name each host exactly: a key must go to those hosts and no others");
    std::string h = lower(host);
    if (h.ends_with('.')) h.pop_back();
    in_addr a4{};
    bool dotted_quad =
        std::count(h.begin(), h.end(), '.') == 3 && ::inet_pton(AF_INET, h.c_str(), &a4) == 1;
    if (!dotted_quad && !valid_dns_name(h))
      return make_error(where + ": '" + std::string(host) + "' is not a host name",
                        "use a DNS name (letters, digits, '-', dots; IDNs as xn--), an IPv4 "
                        "address as a.b.c.d, or "
                        "[IPV6]");
    hp.host = std::move(h);
  }
  if (text.ends_with(':')) return make_error(where + ": the port after ':' is empty");
  if (!port.empty()) {
    unsigned long n = 0;
    if (port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        (n = std::stoul(std::string(port))) == 0 || n > 65535)
      return make_error(where + ": '" + std::string(port) + "' is not a port (1-65535)");
    hp.port = static_cast<uint16_t>(n);
  }
  return hp;
}

const Provider* find_provider(std::string_view name) {
  for (const auto& p : builtin_providers())
    if (p.name == name) return &p;
  return nullptr;
}

// A built-in provider's rules, reading `secret` in place of the provider's name.
Result<CredentialSet> provider_rules(const Provider& p, const std::string& secret,
                                     std::string_view arg) {
  CredentialSet set;
  const std::string where = "--credential '" + std::string(arg) + "'";
  for (const auto& h : p.headers) {
    CredentialRule r;
    r.host = std::string(h.host);
    r.header = std::string(h.header);
    r.provider = std::string(p.name);
    r.origin = std::string(arg);
    HULL_ASSIGN(r.value, parse_template(h.value, where));
    for (auto& part : r.value)
      if (part.kind != TemplatePart::Kind::kText) part.text = secret;
    set.rules.push_back(std::move(r));
  }
  for (auto env : p.env) set.env.push_back({std::string(env), placeholder_for(p.name)});
  return set;
}

Result<CredentialSet> custom_rule(std::string_view target, std::string_view header_and_value,
                                  std::string_view arg) {
  const std::string where = "--credential '" + std::string(arg) + "'";
  CredentialRule r;
  HULL_ASSIGN(HostPort hp, parse_host_port(target, where));
  r.host = std::move(hp.host);
  r.port = hp.port;
  size_t colon = header_and_value.find(':');
  r.header = std::string(header_and_value.substr(0, colon));
  if (!valid_token(r.header))
    return make_error(where + ": '" + r.header + "' is not a header name",
                      "use letters, digits and !#$%&'*+-.^_`|~ (e.g. Authorization, x-api-key)");
  if (reserved_header(r.header))
    return make_error(
        where + ": hull never sets the " + r.header + " header from a credential",
        "it frames or routes the request; put the key in Authorization or the API's own header");
  std::string_view value = header_and_value.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  HULL_ASSIGN(r.value, parse_template(value, where));
  r.origin = std::string(arg);
  CredentialSet set;
  set.rules.push_back(std::move(r));
  return set;
}

bool same_header(const CredentialRule& a, const CredentialRule& b) {
  return a.host == b.host && a.port == b.port && lower(a.header) == lower(b.header);
}

}  // namespace

bool valid_secret_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return lower_or_digit(c) || c == '_' || c == '-'; });
}

std::string placeholder_for(std::string_view provider) {
  return "hull-placeholder-" + std::string(provider);
}

std::vector<std::string> CredentialRule::secrets() const {
  std::vector<std::string> out;
  for (const auto& p : value)
    if (p.kind != TemplatePart::Kind::kText) out.push_back(p.text);
  return out;
}

std::string CredentialRule::describe() const {
  std::string target = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return target + ":" + std::to_string(port) + " " + header + ": " + template_text(value);
}

std::vector<std::string> CredentialSet::secrets() const {
  std::set<std::string> names;
  for (const auto& r : rules)
    for (auto& s : r.secrets()) names.insert(s);
  return {names.begin(), names.end()};
}

std::vector<std::string> CredentialSet::hosts() const {
  std::set<std::string> names;
  for (const auto& r : rules) names.insert(r.host);
  return {names.begin(), names.end()};
}

std::vector<const CredentialRule*> CredentialSet::rules_for(std::string_view host,
                                                            uint16_t port) const {
  std::vector<const CredentialRule*> out;
  for (const auto& r : rules)
    if (r.host == host && r.port == port) out.push_back(&r);
  return out;
}

Result<CredentialSet> parse_credential(std::string_view arg) {
  const std::string where = "--credential '" + std::string(arg) + "'";
  size_t eq = arg.find('=');
  if (eq == std::string_view::npos) {
    const Provider* p = find_provider(arg);
    if (p == nullptr)
      return make_error(where + ": no built-in provider is called that", std::string(kHelp));
    return provider_rules(*p, std::string(arg), arg);
  }
  std::string_view left = arg.substr(0, eq), right = arg.substr(eq + 1);
  if (right.find(':') != std::string_view::npos) return custom_rule(left, right, arg);
  const Provider* p = find_provider(left);
  if (p == nullptr)
    return make_error(where + ": '" + std::string(left) + "' is no built-in provider, and '" +
                          std::string(right) + "' is no HEADER:TEMPLATE",
                      std::string(kHelp));
  if (!valid_secret_name(right))
    return make_error(where + ": '" + std::string(right) + "' is not a secret name",
                      "use 1 to 64 of a-z, 0-9, '_' and '-' (hull secret ls lists yours)");
  return provider_rules(*p, std::string(right), arg);
}

Result<CredentialSet> parse_credentials(std::span<const std::string> args) {
  CredentialSet all;
  std::set<std::string> seen;
  for (const auto& arg : args) {
    if (!seen.insert(arg).second) continue;
    HULL_ASSIGN(CredentialSet one, parse_credential(arg));
    for (auto& r : one.rules) {
      for (const auto& prior : all.rules)
        if (same_header(prior, r))
          return make_error("--credential '" + r.origin + "' and '" + prior.origin + "' both set " +
                                r.header + " on " + r.host + ":" + std::to_string(r.port),
                            "keep one of them");
      all.rules.push_back(std::move(r));
    }
    for (auto& e : one.env)
      if (std::find(all.env.begin(), all.env.end(), e) == all.env.end())
        all.env.push_back(std::move(e));
  }
  return all;
}

}  // namespace hull::policy
