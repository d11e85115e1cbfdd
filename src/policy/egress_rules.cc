#include "policy/egress_rules.h"

#include <algorithm>

#include "policy/egress_path.h"

namespace hull::policy {

namespace {

constexpr size_t kMaxRule = 4096;
constexpr size_t kMaxMethod = 32;

Error bad_rule(std::string_view text, std::string detail) {
  return make_error("egress rule '" + std::string(text.substr(0, 200)) + "'", std::move(detail));
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<uint16_t> parse_port(std::string_view whole, std::string_view s) {
  if (all_digits(s) && s.size() <= 5 && s[0] != '0') {
    unsigned v = 0;
    for (char c : s) v = v * 10 + static_cast<unsigned>(c - '0');
    if (v <= 65535) return static_cast<uint16_t>(v);
  }
  return bad_rule(whole, "port '" + std::string(s) +
                             "' is not a number from 1 to 65535 (e.g. api.example.com:443)");
}

struct HostPart {
  RuleHost kind = RuleHost::kName;
  std::string name;
  NetPrefix cidr;
  std::optional<uint16_t> port;
};

// "name", "*.name", "*", a CIDR; each with an optional ":port". With a port,
// IPv6 goes in brackets; unbracketed text with two ':' or more is IPv6
// without a port.
Result<HostPart> parse_host_part(std::string_view whole, std::string_view text) {
  HostPart out;
  std::string_view host = text;
  size_t colon = std::string_view::npos;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos)
      return bad_rule(whole, "'[' without ']' (e.g. [fd00::]/8:443)");
    colon = text.find(':', close);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    colon = text.find(':');
  }
  if (colon != std::string_view::npos) {
    HULL_ASSIGN(out.port, parse_port(whole, text.substr(colon + 1)));
    host = text.substr(0, colon);
  }
  if (host.empty()) return bad_rule(whole, "no host before the port (e.g. api.example.com:443)");

  if (host == "*") {
    out.kind = RuleHost::kAnyName;
    return out;
  }
  const bool wildcard = host.substr(0, 2) == "*.";
  if (host.find('*', wildcard ? 2 : 0) != std::string_view::npos) {
    return bad_rule(whole, "'*' stands alone or as the whole first label: *.example.com");
  }
  if (host.front() == '[' || host.find_first_of("/:") != std::string_view::npos) {
    auto cidr = parse_cidr(host);
    if (!cidr) return bad_rule(whole, cidr.error().detail);
    out.kind = RuleHost::kCidr;
    out.cidr = *cidr;
    return out;
  }
  auto normal = normalize_host(wildcard ? host.substr(2) : host);
  if (!normal)
    return bad_rule(whole, normal.error().detail + " (e.g. example.com or *.example.com)");
  if (normal->is_address()) {
    if (wildcard)
      return bad_rule(
          whole, "'*.' names subdomains of a name; for addresses write a CIDR such as 10.0.0.0/8");
    auto cidr = parse_cidr(host);
    if (!cidr) {
      return bad_rule(whole,
                      "write the address as a dotted quad or a CIDR: " +
                          to_string(NetPrefix{*normal->address,
                                              static_cast<uint8_t>(normal->address->bit_width())}));
    }
    out.kind = RuleHost::kCidr;
    out.cidr = *cidr;
    return out;
  }
  out.kind = wildcard ? RuleHost::kSubdomains : RuleHost::kName;
  out.name = normal->text;
  return out;
}

Result<std::vector<std::string>> parse_methods(std::string_view whole, std::string_view text) {
  std::vector<std::string> methods;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view m =
        text.substr(start, comma == std::string_view::npos ? comma : comma - start);
    const bool upper =
        !m.empty() && m.size() <= kMaxMethod && m[0] >= 'A' && m[0] <= 'Z' &&
        std::all_of(m.begin(), m.end(), [](char c) { return (c >= 'A' && c <= 'Z') || c == '-'; });
    if (m != "*" && !upper) {
      return bad_rule(whole,
                      "method '" + std::string(m) +
                          "' is not an upper-case HTTP method; write e.g. 'GET,HEAD github.com/*' "
                          "or '* github.com/*' for any method");
    }
    methods.emplace_back(m);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  std::sort(methods.begin(), methods.end());
  methods.erase(std::unique(methods.begin(), methods.end()), methods.end());
  if (methods.size() > 1 && methods.front() == "*") {
    return bad_rule(whole, "'*' already means every method: write '* github.com/*' alone");
  }
  return methods;
}

Result<EgressRule> parse_request_rule(std::string_view whole, size_t space) {
  EgressRule rule;
  HULL_ASSIGN(rule.methods, parse_methods(whole, whole.substr(0, space)));
  std::string_view target = whole.substr(space + 1);
  size_t slash = target.find('/');
  if (slash == std::string_view::npos) {
    return bad_rule(whole,
                    "a method/path rule needs a path after the host: 'GET,HEAD github.com/*'");
  }
  HULL_ASSIGN(HostPart hp, parse_host_part(whole, target.substr(0, slash)));
  if (hp.kind == RuleHost::kCidr || hp.kind == RuleHost::kAnyName) {
    return bad_rule(whole,
                    "a method/path rule names a host (github.com) or its subdomains "
                    "(*.github.com), not '*' or an address");
  }
  auto path = canonical_path_pattern(target.substr(slash));
  if (!path)
    return bad_rule(whole, path.error().detail + " (e.g. 'POST github.com/*/git-receive-pack')");
  rule.host = hp.kind;
  rule.name = hp.name;
  rule.port = hp.port;
  rule.path = *path;
  return rule;
}

// A name (or *.name, or *) before a '/': a path written without methods.
bool names_a_host(std::string_view before_slash) {
  if (std::count(before_slash.begin(), before_slash.end(), ':') > 1) return false;  // IPv6
  std::string_view host = before_slash.substr(0, before_slash.find(':'));
  if (host == "*" || host.substr(0, 2) == "*.") return true;
  auto n = normalize_host(host);
  return n && !n->is_address();
}

}  // namespace

Result<EgressRule> parse_egress_rule(std::string_view text) {
  if (text.empty()) return bad_rule(text, "empty; write e.g. api.example.com:443 or *.example.com");
  if (text.size() > kMaxRule) return bad_rule(text, "over 4096 bytes");
  if (text.find("://") != std::string_view::npos) {
    return bad_rule(
        text, "a rule names a host, not a URL: write example.com, or 'GET example.com/path/*'");
  }
  const size_t space = text.find(' ');
  if (space != std::string_view::npos) {
    if (text.find(' ', space + 1) != std::string_view::npos || space == 0) {
      return bad_rule(text,
                      "one space, between the methods and host/path: 'GET,HEAD github.com/*'");
    }
    return parse_request_rule(text, space);
  }
  const size_t slash = text.find('/');
  if (slash != std::string_view::npos && text.front() != '[' &&
      names_a_host(text.substr(0, slash))) {
    return bad_rule(text, "a path needs methods in front: 'GET,HEAD " + std::string(text) +
                              "' (or '* " + std::string(text) + "' for any method)");
  }
  HULL_ASSIGN(HostPart hp, parse_host_part(text, text));
  EgressRule rule;
  rule.host = hp.kind;
  rule.name = hp.name;
  rule.cidr = hp.cidr;
  rule.port = hp.port;
  return rule;
}

std::string to_string(const EgressRule& rule) {
  std::string host;
  switch (rule.host) {
    case RuleHost::kName:
      host = rule.name;
      break;
    case RuleHost::kSubdomains:
      host = "*." + rule.name;
      break;
    case RuleHost::kAnyName:
      host = "*";
      break;
    case RuleHost::kCidr:
      host = to_string(rule.cidr);
      break;
  }
  if (rule.port) host += ":" + std::to_string(*rule.port);
  if (!rule.is_request_rule()) return host;
  std::string methods;
  for (const auto& m : rule.methods) methods += (methods.empty() ? "" : ",") + m;
  return methods + " " + host + rule.path;
}

bool matches_host(const EgressRule& rule, const NormalizedHost& host, uint16_t port) {
  if (rule.port && *rule.port != port) return false;
  switch (rule.host) {
    case RuleHost::kName:
      return !host.is_address() && host.text == rule.name;
    case RuleHost::kSubdomains:
      return !host.is_address() && host.text.size() > rule.name.size() + 1 &&
             host.text.ends_with(rule.name) &&
             host.text[host.text.size() - rule.name.size() - 1] == '.';
    case RuleHost::kAnyName:
      return !host.is_address();
    case RuleHost::kCidr:
      return host.is_address() && contains(rule.cidr, *host.address);
  }
  return false;
}

bool matches_request(const EgressRule& rule, std::string_view method, std::string_view path) {
  if (!rule.is_request_rule()) return false;
  const bool method_ok =
      rule.methods.front() == "*" ||
      std::find(rule.methods.begin(), rule.methods.end(), method) != rule.methods.end();
  return method_ok && path_matches(rule.path, path);
}

}  // namespace hull::policy
