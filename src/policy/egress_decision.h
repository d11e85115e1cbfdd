// The egress decision: may this connection or request leave the sandbox?
// Pure code; the egress process does the I/O and asks these, in order:
//
//  1. decide_host(policy, host, port) on the host as the client wrote it,
//     normalised once (normalize_host). A --deny rule wins over any allow;
//     an IP literal is allowed only by a CIDR rule (under every preset).
//  2. The egress process resolves the name itself (never the sandbox's
//     answer), then decide_addresses(...) with EVERY address returned: one
//     non-public address (address_class.h) or one of the host's own refuses
//     the whole name unless a CIDR --allow names it; CIDR --deny rules apply
//     to addresses too. The process then dials exactly an address it checked.
//  3. If has_request_rules(policy, host, port), the proxy intercepts TLS and
//     calls decide_request(...) for every request, pipelined ones included.
//     A host that has method/path allow rules is narrowed to them: only a
//     request that one of them matches goes out, whatever the connection
//     rules or the preset allow for that host.
//
// Every refusal says what decided it and the flag that would allow it; the
// proxy puts both in its 403 body so that an agent stops trying.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/egress_presets.h"
#include "policy/egress_rules.h"
#include "policy/host_name.h"
#include "policy/net_address.h"

namespace hull::policy {

struct EgressPolicy {
  Preset preset = Preset::kBalanced;
  // Balanced only: the package sources the image is configured to use
  // (parse_image_source), recorded at image build time.
  std::vector<EgressRule> image_sources;
  std::vector<EgressRule> allow;  // --allow, then hull.toml's allow list
  std::vector<EgressRule> deny;   // --deny, then hull.toml's deny list
  // TEST ONLY: lifts the loopback refusal for these exact address:port
  // pairs (the test servers on 127.0.0.1), at both the host and the address
  // step. Never filled from user input; non-loopback entries are ignored.
  std::vector<std::pair<NetAddress, uint16_t>> loopback_exceptions;
};

struct EgressDecision {
  bool allowed = false;
  // What decided, as a user would write it: "--deny '*.evil.com'",
  // "--allow api.example.com:443", "preset balanced", "no rule allows it".
  std::string rule;
  // One line for people and agents: "10.0.0.5 is private (RFC 1918) ...".
  std::string reason;
  // Refusals: the flag that would allow it ("--allow api.example.com:443",
  // "--allow 10.0.0.5/32:8080"), or what to change ("drop --deny ...").
  // Empty when allowed, or when no rule can allow it (a malformed path).
  std::string fix;
};

EgressDecision decide_host(const EgressPolicy& policy, const NormalizedHost& host, uint16_t port);

// `host_decision` is decide_host's answer for `host`; a refusal is passed
// through. `host_own` are the addresses of the host's own interfaces (the
// caller reads them; this stays pure).
EgressDecision decide_addresses(const EgressPolicy& policy, const NormalizedHost& host,
                                const EgressDecision& host_decision,
                                std::span<const NetAddress> resolved, uint16_t port,
                                std::span<const NetAddress> host_own);

// Does any method/path rule (allow or deny) cover host:port? Then the proxy
// must intercept TLS to this host and decide each request.
bool has_request_rules(const EgressPolicy& policy, const NormalizedHost& host, uint16_t port);

// One HTTP request on an allowed connection. `method` as sent (compared in
// upper case), `target` in origin form ("/a/b?q"). Hosts without
// method/path rules get decide_host's answer.
EgressDecision decide_request(const EgressPolicy& policy, const NormalizedHost& host, uint16_t port,
                              std::string_view method, std::string_view target);

// The rule as a shell-ready flag: "--allow api.example.com:443",
// "--deny '*.evil.com'" (quoted when the shell would read it).
std::string rule_flag(std::string_view flag, const EgressRule& rule);

}  // namespace hull::policy
