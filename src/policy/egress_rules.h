// One egress rule, as written after `--allow` / `--deny` or in hull.toml's
// [network] table, parsed into a value.
//
// Syntax (one string):
//   example.com              exactly that name (any port)
//   *.example.com            its subdomains at any depth, NOT example.com itself
//   api.example.com:443      any name form with a port
//   *                        any name; still never an IP literal or a
//                            non-public address
//   10.0.0.0/8  10.0.0.5  10.0.0.0/8:443  [fd00::]/8:443
//                            a CIDR (a plain address is /32 or /128): the
//                            only rule that reaches an IP literal or a
//                            non-public address
//   GET,HEAD github.com/*    a method/path rule: METHODS HOST[:PORT]/PATH.
//                            METHODS: upper case, comma-separated, or '*'
//                            for any; HOST a name or *.name; PATH as in
//                            egress_path.h ('*' is one or more characters,
//                            '/' included; a trailing "/*" is the prefix and
//                            all below). The proxy must intercept TLS for
//                            such a host to see the requests.
// Names are normalised as normalize_host() does (`MÜNCHEN.de` is
// `xn--mnchen-3ya.de`). to_string() gives the canonical text, which parses
// back to an equal rule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "policy/host_name.h"
#include "policy/net_address.h"

namespace hull::policy {

enum class RuleHost {
  kName,        // `name` exactly
  kSubdomains,  // strictly below `name`
  kAnyName,     // every name
  kCidr,        // addresses in `cidr`
};

struct EgressRule {
  RuleHost host = RuleHost::kName;
  std::string name;  // kName / kSubdomains, normalised
  NetPrefix cidr;    // kCidr
  std::optional<uint16_t> port;
  // Method/path rules only: the methods (sorted, or just "*") and the
  // canonical path pattern. Empty: a connection rule.
  std::vector<std::string> methods;
  std::string path;

  bool is_request_rule() const { return !methods.empty(); }
  bool operator==(const EgressRule&) const = default;
};

// An Error says what is wrong and shows a correct example.
Result<EgressRule> parse_egress_rule(std::string_view text);
std::string to_string(const EgressRule& rule);

// Does the rule's host part (and port, if it has one) cover host:port?
// Names match name rules, IP literals match CIDR rules; methods and path
// are not looked at.
bool matches_host(const EgressRule& rule, const NormalizedHost& host, uint16_t port);

// Method/path rules: `method` (upper case) and `path` (canonical, see
// canonical_request_path) against the rule's. False for connection rules.
bool matches_request(const EgressRule& rule, std::string_view method, std::string_view path);

}  // namespace hull::policy
