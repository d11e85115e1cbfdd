// One connection from the sandbox's proxy listener, served by the egress
// process: parse (proxy_request.h), decide (policy/egress_decision.h),
// resolve on the host, check every address, dial exactly a checked address,
// answer, then carry the bytes. Each attempt ends as one network event.
//
//   CONNECT / SOCKS5   one decision, then a tunnel (TLS passes untouched)
//   http:// requests   every request on the connection is decided on its
//                      own (a pipelined second one too); each goes to the
//                      origin on a fresh connection with "Connection:
//                      close", the body forwarded exactly as framed
//                      (request_body.h), so no request reaches an origin
//                      without its own decision
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/fd.h"
#include "egress/egress_config.h"
#include "policy/egress_decision.h"

namespace hull::egress {

struct EgressContext {
  boost::asio::any_io_executor ex;
  EgressConfig config;
  policy::EgressPolicy policy;
  std::vector<policy::NetAddress> host_own;  // the host's interface addresses
  std::map<std::string, std::vector<policy::NetAddress>> test_hosts;  // tests only
  std::function<void(const nlohmann::json&)> emit;  // one network event
  uint32_t open = 0;  // connections being served
};

// Builds the policy from the config (rules parsed, test overrides applied).
Result<policy::EgressPolicy> policy_from_config(const EgressConfig& c);

boost::asio::awaitable<void> serve_connection(EgressContext& ctx, UniqueFd client, uint64_t id,
                                              std::string who);

// dns_answer.cc: one query to the sandbox's stub resolver (its bytes are the
// connection's, then EOF): a name the policy refuses, or whose addresses it
// refuses, is NXDOMAIN; an allowed one gets the addresses the host's own
// lookup found. The proxy decides again on its own lookup when the client
// connects; this only serves tools that look a name up first.
boost::asio::awaitable<void> answer_dns_query(EgressContext& ctx, UniqueFd client, uint64_t id, std::string who);

// The host's lookup of `host` (connection.cc): the test table, else the
// system resolver.
boost::asio::awaitable<Result<std::vector<policy::NetAddress>>> resolve_host(EgressContext& ctx,
                                                                             const policy::NormalizedHost& host);

}  // namespace hull::egress
