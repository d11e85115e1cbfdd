// Fuzz the egress policy's parsers of text a sandbox or a user controls:
// the host a client writes (normalize_host, parse_ip_literal), the request
// path, and --allow/--deny rules (a hull.toml may come from an untrusted
// repository). Input: up to four '\n'-separated fields, each tried as every
// kind, then a decision over all of them.
// Properties: never crashes; normalising a normalised host is a fixed
// point; a parsed rule re-printed parses to the same rule (and prints the
// same); an address, a prefix and a canonical path re-read to themselves.
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "policy/address_class.h"
#include "policy/egress_decision.h"
#include "policy/egress_path.h"

using namespace hull::policy;

namespace {

void check_field(std::string_view text, EgressPolicy& policy) {
  if (auto h = normalize_host(text); h) {
    auto again = normalize_host(h->text);
    if (!again || !(*again == *h)) abort();
  }
  if (auto r = parse_egress_rule(text); r) {
    const std::string printed = to_string(*r);
    auto back = parse_egress_rule(printed);
    if (!back || !(*back == *r) || to_string(*back) != printed) abort();
    policy.allow.push_back(*r);
    policy.deny.push_back(*r);
  }
  if (auto a = parse_ip_literal(text); a && *a) {
    auto back = parse_ip_literal(to_host_text(**a));
    if (!back || !*back || !(**back == **a)) abort();
    (void)explain(classify(**a));
  }
  if (auto p = parse_cidr(text); p) {
    auto back = parse_cidr(to_string(*p));
    if (!back || !(*back == *p) || !contains(*p, p->base)) abort();
  }
  if (auto path = canonical_request_path(text); path) {
    auto again = canonical_request_path(*path);
    if (!again || *again != *path) abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (fields.size() < 4) {
    size_t nl = input.find('\n', start);
    fields.push_back(input.substr(start, nl == std::string_view::npos ? nl : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  EgressPolicy policy;
  policy.preset = static_cast<Preset>(size % 3);
  // Deny rules would refuse everything the allow rules name: keep a half.
  for (auto f : fields) check_field(f, policy);
  if (policy.deny.size() > 1) policy.deny.resize(policy.deny.size() / 2);

  auto host = normalize_host(fields[0]);
  if (!host) return 0;
  const uint16_t port = static_cast<uint16_t>(size * 131 + 1);
  EgressDecision d = decide_host(policy, *host, port);
  std::vector<NetAddress> resolved;
  for (auto f : fields) {
    if (auto a = parse_ip_literal(f); a && *a) resolved.push_back(**a);
  }
  d = decide_addresses(policy, *host, d, resolved, port, resolved);
  (void)has_request_rules(policy, *host, port);
  const std::string_view method = fields.size() > 1 ? fields[1] : "GET";
  const std::string_view target = fields.size() > 2 ? fields[2] : "/";
  d = decide_request(policy, *host, port, method, target);
  if (d.rule.empty() || d.reason.empty()) abort();
  return 0;
}
