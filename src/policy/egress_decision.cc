#include "policy/egress_decision.h"

#include <algorithm>

#include "policy/address_class.h"
#include "policy/egress_path.h"

namespace hull::policy {

namespace {

constexpr char kNonPublicRule[] = "non-public address (built in)";

std::string shell_quote(std::string_view s) {
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("._:/@,=+-%").find(c) != std::string_view::npos;
  });
  if (plain) return std::string(s);
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

EgressDecision allowed(std::string rule, std::string reason) {
  return EgressDecision{true, std::move(rule), std::move(reason), {}};
}

EgressDecision refused(std::string rule, std::string reason, std::string fix) {
  return EgressDecision{false, std::move(rule), std::move(reason), std::move(fix)};
}

std::string host_port(const NormalizedHost& h, uint16_t port) {
  return h.text + ":" + std::to_string(port);
}

std::string allow_name_flag(const NormalizedHost& h, uint16_t port) {
  EgressRule r;
  r.name = h.text;
  r.port = port;
  return rule_flag("--allow", r);
}

std::string allow_address_flag(const NetAddress& a, uint16_t port) {
  EgressRule r;
  r.host = RuleHost::kCidr;
  r.cidr = NetPrefix{a, static_cast<uint8_t>(a.bit_width())};
  r.port = port;
  return rule_flag("--allow", r);
}

std::string drop(const EgressRule& deny) {
  return "drop " + rule_flag("--deny", deny) + " (a deny rule wins over every allow)";
}

// An IPv4-mapped address is that IPv4 address on a dual-stack socket, so a
// rule about the one is a rule about the other.
NetAddress unmapped(const NetAddress& a) {
  for (const auto& [how, inner] : embedded_ipv4(a)) {
    if (how == Embedding::kIpv4Mapped) return inner;
  }
  return a;
}

bool port_ok(const EgressRule& r, uint16_t port) { return !r.port || *r.port == port; }

// Allow rules are exact: the address itself (or the IPv4 an IPv4-mapped
// address is). Deny rules look through every embedding: wider is safer.
bool cidr_allows(const EgressRule& r, const NetAddress& a, uint16_t port) {
  return r.host == RuleHost::kCidr && port_ok(r, port) &&
         (contains(r.cidr, a) || contains(r.cidr, unmapped(a)));
}

bool cidr_denies(const EgressRule& r, const NetAddress& a, uint16_t port) {
  if (r.host != RuleHost::kCidr || !port_ok(r, port)) return false;
  if (contains(r.cidr, a)) return true;
  for (const auto& [how, inner] : embedded_ipv4(a)) {
    if (contains(r.cidr, inner)) return true;
  }
  return false;
}

bool is_own(const NetAddress& a, std::span<const NetAddress> own) {
  auto mine = [&](const NetAddress& x) {
    return std::find(own.begin(), own.end(), x) != own.end();
  };
  if (mine(a)) return true;
  for (const auto& [how, inner] : embedded_ipv4(a)) {
    if (mine(inner)) return true;
  }
  return false;
}

bool loopback_exception(const EgressPolicy& p, const NetAddress& a, uint16_t port) {
  if (classify(a).kind != AddressClass::kLoopback) return false;
  return std::find(p.loopback_exceptions.begin(), p.loopback_exceptions.end(),
                   std::pair{a, port}) != p.loopback_exceptions.end();
}

std::optional<EgressDecision> decide_by_preset(const EgressPolicy& policy,
                                               const NormalizedHost& host) {
  switch (policy.preset) {
    case Preset::kLocked:
      return std::nullopt;
    case Preset::kOpen:
      return allowed("preset open", host.text +
                                        " is a name and preset open allows every name "
                                        "(its addresses are still checked)");
    case Preset::kBalanced:
      for (const auto& h : balanced_hosts()) {
        if (host.text == h.host)
          return allowed("preset balanced", host.text + " is in preset balanced: " + h.why);
      }
      for (const auto& src : policy.image_sources) {
        if (src.host == RuleHost::kName && !src.is_request_rule() && host.text == src.name) {
          return allowed("preset balanced",
                         host.text + " is a package source the image is configured to use");
        }
      }
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::string rule_flag(std::string_view flag, const EgressRule& rule) {
  return std::string(flag) + " " + shell_quote(to_string(rule));
}

EgressDecision decide_host(const EgressPolicy& policy, const NormalizedHost& host, uint16_t port) {
  for (const auto& d : policy.deny) {
    if (!d.is_request_rule() && matches_host(d, host, port)) {
      return refused(rule_flag("--deny", d), host_port(host, port) + " is refused by a deny rule",
                     drop(d));
    }
  }
  if (host.is_address()) {
    if (loopback_exception(policy, *host.address, port)) {
      return allowed("loopback exception (test only)", host_port(host, port) + " is a test server");
    }
    for (const auto& a : policy.allow) {
      if (a.host == RuleHost::kCidr && matches_host(a, host, port)) {
        return allowed(rule_flag("--allow", a), host.text + " is in " + to_string(a.cidr));
      }
    }
    return refused(
        "no CIDR rule names it",
        host.text + " is an IP address: only a CIDR rule allows an address, under every preset",
        allow_address_flag(*host.address, port));
  }
  for (const auto& a : policy.allow) {
    if (matches_host(a, host, port)) {
      return allowed(rule_flag("--allow", a),
                     host_port(host, port) + " is allowed by a rule" +
                         (a.is_request_rule() ? " (each request is checked)" : ""));
    }
  }
  if (auto by_preset = decide_by_preset(policy, host)) return *by_preset;
  return refused("no rule allows it",
                 host_port(host, port) + " is not in preset " +
                     std::string(preset_name(policy.preset)) + " and no --allow rule names it",
                 allow_name_flag(host, port));
}

EgressDecision decide_addresses(const EgressPolicy& policy, const NormalizedHost& host,
                                const EgressDecision& host_decision,
                                std::span<const NetAddress> resolved, uint16_t port,
                                std::span<const NetAddress> host_own) {
  if (!host_decision.allowed) return host_decision;
  if (resolved.empty()) return refused("no address", host.text + " resolved to no address", "");
  for (const auto& a : resolved) {
    const std::string where =
        host.is_address() ? host.text + " is" : host.text + " resolves to " + to_string(a) + ",";
    for (const auto& d : policy.deny) {
      if (cidr_denies(d, a, port))
        return refused(rule_flag("--deny", d), where + " refused by a deny rule", drop(d));
    }
    if (loopback_exception(policy, a, port)) continue;
    const AddressVerdict verdict = classify(a);
    const bool own = is_own(a, host_own);
    if (verdict.kind == AddressClass::kPublic && !own) continue;
    if (std::any_of(policy.allow.begin(), policy.allow.end(),
                    [&](const EgressRule& r) { return cidr_allows(r, a, port); })) {
      continue;
    }
    const std::string what = own ? "one of this host's own addresses" : explain(verdict);
    return refused(kNonPublicRule,
                   where + " " + what + "; refused under every preset unless a CIDR rule names it",
                   allow_address_flag(unmapped(a), port));
  }
  return host_decision;
}

bool has_request_rules(const EgressPolicy& policy, const NormalizedHost& host, uint16_t port) {
  auto covers = [&](const EgressRule& r) {
    return r.is_request_rule() && matches_host(r, host, port);
  };
  return std::any_of(policy.allow.begin(), policy.allow.end(), covers) ||
         std::any_of(policy.deny.begin(), policy.deny.end(), covers);
}

EgressDecision decide_request(const EgressPolicy& policy, const NormalizedHost& host, uint16_t port,
                              std::string_view method, std::string_view target) {
  EgressDecision d = decide_host(policy, host, port);
  if (!d.allowed || !has_request_rules(policy, host, port)) return d;
  auto path = canonical_request_path(target);
  if (!path) return refused("request path check", path.error().message(), "");
  std::string m(method.substr(0, 64));
  for (char& c : m) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  const std::string what = m + " " + *path + " on " + host_port(host, port);
  for (const auto& r : policy.deny) {
    if (matches_host(r, host, port) && matches_request(r, m, *path)) {
      return refused(rule_flag("--deny", r), what + " is refused by a deny rule", drop(r));
    }
  }
  bool narrowed = false;
  for (const auto& r : policy.allow) {
    if (!r.is_request_rule() || !matches_host(r, host, port)) continue;
    narrowed = true;
    if (matches_request(r, m, *path))
      return allowed(rule_flag("--allow", r), what + " is allowed by a rule");
  }
  if (!narrowed) return d;
  EgressRule fix;
  fix.name = host.text;
  fix.port = port;
  fix.methods = {m};
  fix.path = *path;
  return refused("no method/path rule allows it",
                 what + ": this host has method/path rules and none allows this request",
                 rule_flag("--allow", fix));
}

}  // namespace hull::policy
