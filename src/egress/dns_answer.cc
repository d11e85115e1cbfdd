// The host's side of the sandbox's stub resolver (connection.h).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <set>

#include "base/time_text.h"
#include "egress/connection.h"
#include "egress/dns_message.h"

namespace hull::egress {

namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using Json = nlohmann::json;
constexpr auto kUse = asio::as_tuple(asio::use_awaitable);
constexpr auto kQueryWait = std::chrono::seconds(5);

// The ports a looked-up name might be used on: 80, 443, those --allow
// rules name, and (tests) those of the loopback exceptions.
std::set<uint16_t> candidate_ports(const EgressContext& ctx) {
  std::set<uint16_t> ports = {80, 443};
  for (const auto& r : ctx.policy.allow)
    if (r.port) ports.insert(*r.port);
  for (const auto& [addr, port] : ctx.policy.loopback_exceptions) ports.insert(port);
  return ports;
}

const char* type_name(uint16_t t) { return t == kDnsTypeA ? "A" : t == kDnsTypeAaaa ? "AAAA" : "other"; }

}  // namespace

asio::awaitable<void> answer_dns_query(EgressContext& ctx, UniqueFd fd, uint64_t id, std::string who) {
  asio::posix::stream_descriptor client(ctx.ex, fd.release());
  // The whole query, up to its EOF.
  std::string packet;
  std::vector<char> buf(kMaxDnsMessage + 1);
  asio::steady_timer t(ctx.ex, kQueryWait);
  for (;;) {
    auto r = co_await (client.async_read_some(asio::buffer(buf), kUse) || t.async_wait(kUse));
    if (r.index() == 1) co_return;  // no complete query in time
    auto [ec, n] = std::get<0>(r);
    if (ec) break;
    packet.append(buf.data(), n);
    if (packet.size() > kMaxDnsMessage) co_return;
  }
  Json event = {{"time", now_rfc3339()}, {"kind", "dns"}, {"conn", id}, {"client", who}};
  std::string answer;
  auto q = parse_dns_query(packet);
  if (!q) {
    answer = dns_format_error(packet);
    event["detail"] = "malformed query: " + q.error().message();
  } else {
    std::string what = std::string(type_name(q->qtype)) + " " + q->name;
    auto host = policy::normalize_host(q->name);
    if (!host || host->is_address()) {
      answer = dns_response(*q, kDnsNxDomain, {});
      event["detail"] = what + ": NXDOMAIN (" + (host ? "an address, not a name" : host.error().message()) + ")";
    } else {
      // Answered when the name and its addresses may be reached on some port.
      policy::EgressDecision d;
      std::vector<policy::NetAddress> addrs;
      std::optional<Result<std::vector<policy::NetAddress>>> found;
      for (uint16_t port : candidate_ports(ctx)) {
        d = policy::decide_host(ctx.policy, *host, port);
        if (!d.allowed) continue;
        if (!found) found = co_await resolve_host(ctx, *host);
        if (!*found) {
          d.allowed = false;
          d.reason = found->error().message();
          break;
        }
        d = policy::decide_addresses(ctx.policy, *host, d, **found, port, ctx.host_own);
        if (d.allowed) {
          addrs = **found;
          break;
        }
      }
      answer = dns_response(*q, d.allowed ? kDnsNoError : kDnsNxDomain, addrs);
      std::string list;
      for (const auto& a : addrs) list += (list.empty() ? "" : " ") + policy::to_string(a);
      event["detail"] = what + (d.allowed ? " -> " + list : ": NXDOMAIN, " + d.rule + (d.reason.empty() ? "" : " (" + d.reason + ")"));
      event["decision"] = d.allowed ? "allowed" : "refused";
    }
  }
  ctx.emit(event);
  (void)co_await asio::async_write(client, asio::buffer(answer), kUse);
}

}  // namespace hull::egress
