#include "egress/connection.h"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <optional>

#include "base/time_text.h"
#include "egress/proxy_request.h"
#include "egress/proxy_responses.h"
#include "egress/request_body.h"
#include "egress/upstream_head.h"
#include "policy/address_class.h"

namespace hull::egress {

namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using tcp = asio::ip::tcp;
using Desc = asio::posix::stream_descriptor;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
constexpr auto kUse = asio::as_tuple(asio::use_awaitable);
constexpr size_t kChunk = 64 * 1024;

// What one attempt did; becomes one line of network.log.
struct Attempt {
  Clock::time_point start = Clock::now();
  std::string protocol, method, host, address, path;
  uint16_t port = 0;
  bool allowed = false;
  std::string rule, reason, error;
  uint64_t up = 0, down = 0;  // bytes sandbox → world, world → sandbox
};

const char* protocol_name(ProxyProtocol p) {
  switch (p) {
    case ProxyProtocol::kHttpConnect: return "connect";
    case ProxyProtocol::kHttpForward: return "http";
    case ProxyProtocol::kSocks5: return "socks5";
  }
  return "?";
}

void emit(EgressContext& ctx, const Attempt& a, uint64_t id, const std::string& who) {
  Json j = {{"time", now_rfc3339()},
            {"kind", "connection"},
            {"conn", id},
            {"client", who},
            {"protocol", a.protocol},
            {"method", a.method},
            {"host", a.host},
            {"port", a.port},
            {"address", a.address},
            {"decision", a.allowed ? "allowed" : "refused"},
            {"rule", a.rule},
            {"reason", a.reason},
            {"bytes_up", a.up},
            {"bytes_down", a.down},
            {"duration_ms", std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - a.start).count()}};
  if (!a.path.empty()) j["path"] = a.path;
  if (!a.error.empty()) j["error"] = a.error;
  ctx.emit(j);
}

// One read with a deadline; 0 bytes and an error code on timeout/EOF.
template <class Stream>
asio::awaitable<std::pair<boost::system::error_code, size_t>> read_with_deadline(
    Stream& s, std::span<char> buf, std::chrono::milliseconds limit) {
  asio::steady_timer t(s.get_executor(), limit);
  auto r = co_await (s.async_read_some(asio::buffer(buf.data(), buf.size()), kUse) || t.async_wait(kUse));
  if (r.index() == 1) co_return std::pair{boost::system::error_code(asio::error::timed_out), size_t{0}};
  auto [ec, n] = std::get<0>(r);
  co_return std::pair{ec, n};
}

template <class Stream>
asio::awaitable<bool> write_all(Stream& s, std::string_view bytes) {
  if (bytes.empty()) co_return true;
  auto [ec, n] = co_await asio::async_write(s, asio::buffer(bytes.data(), bytes.size()), kUse);
  co_return !ec;
}

policy::NetAddress from_asio(const asio::ip::address& a) {
  if (a.is_v4()) return policy::NetAddress::v4(a.to_v4().to_uint());
  if (a.to_v6().is_v4_mapped())
    return policy::NetAddress::v4(asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_uint());
  return policy::NetAddress::v6(a.to_v6().to_bytes());
}

asio::ip::address to_asio(const policy::NetAddress& a) {
  if (a.is_v4()) return asio::ip::address_v4(a.v4_value());
  return asio::ip::address_v6(a.bytes);
}

}  // namespace

// The host's own lookup (never the sandbox's): the test table, else the
// system resolver (so /etc/hosts works).
asio::awaitable<Result<std::vector<policy::NetAddress>>> resolve_host(EgressContext& ctx,
                                                                      const policy::NormalizedHost& host) {
  if (host.address) co_return std::vector<policy::NetAddress>{*host.address};
  if (auto it = ctx.test_hosts.find(host.text); it != ctx.test_hosts.end()) co_return it->second;
  tcp::resolver r(ctx.ex);
  auto [ec, results] = co_await r.async_resolve(host.text, "", kUse);
  if (ec) co_return make_error("resolve " + host.text, ec.message());
  std::vector<policy::NetAddress> out;
  for (const auto& e : results) {
    auto a = from_asio(e.endpoint().address());
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
  if (out.empty()) co_return make_error("resolve " + host.text, "no address");
  co_return out;
}

namespace {

struct Dialed {
  std::optional<tcp::socket> socket;
  std::string address;  // what it is connected to
  std::string error;
};

// Dials the checked addresses in order; the first that answers wins.
asio::awaitable<Dialed> dial(EgressContext& ctx, const std::vector<policy::NetAddress>& addrs, uint16_t port) {
  Dialed d;
  for (const auto& a : addrs) {
    tcp::socket s(ctx.ex);
    asio::steady_timer t(ctx.ex, std::chrono::milliseconds(ctx.config.connect_timeout_ms));
    const tcp::endpoint ep(to_asio(a), port);
    auto r = co_await (s.async_connect(ep, kUse) || t.async_wait(kUse));
    if (r.index() == 0 && !std::get<0>(std::get<0>(r))) {
      d.socket.emplace(std::move(s));
      d.address = policy::to_string(a);
      co_return d;
    }
    d.error = r.index() == 1 ? "timed out connecting to " + policy::to_string(a)
                             : std::get<0>(std::get<0>(r)).message() + " (" + policy::to_string(a) + ")";
  }
  co_return d;
}

// Carries bytes both ways until both sides have ended, either fails, or
// neither moves for the idle timeout. Half-closes are passed on.
asio::awaitable<void> tunnel(EgressContext& ctx, Desc& client, tcp::socket& upstream, Attempt& a) {
  auto last = std::make_shared<Clock::time_point>(Clock::now());
  auto done = std::make_shared<bool>(false);
  auto close_both = [&client, &upstream, done] {
    *done = true;
    boost::system::error_code ec;
    client.close(ec);
    upstream.close(ec);
  };
  auto copy_up = [&]() -> asio::awaitable<void> {
    std::vector<char> buf(kChunk);
    for (;;) {
      auto [ec, n] = co_await client.async_read_some(asio::buffer(buf), kUse);
      if (*done) co_return;
      if (ec) {
        boost::system::error_code ig;
        upstream.shutdown(tcp::socket::shutdown_send, ig);
        if (ec != asio::error::eof) close_both();
        co_return;
      }
      *last = Clock::now();
      if (!co_await write_all(upstream, std::string_view(buf.data(), n))) {
        close_both();
        co_return;
      }
      a.up += n;
    }
  };
  auto copy_down = [&]() -> asio::awaitable<void> {
    std::vector<char> buf(kChunk);
    for (;;) {
      auto [ec, n] = co_await upstream.async_read_some(asio::buffer(buf), kUse);
      if (*done) co_return;
      if (ec) {
        ::shutdown(client.native_handle(), SHUT_WR);
        if (ec != asio::error::eof) close_both();
        co_return;
      }
      *last = Clock::now();
      if (!co_await write_all(client, std::string_view(buf.data(), n))) {
        close_both();
        co_return;
      }
      a.down += n;
    }
  };
  auto idle = [&]() -> asio::awaitable<void> {
    const auto limit = std::chrono::milliseconds(ctx.config.idle_timeout_ms);
    asio::steady_timer t(ctx.ex);
    while (!*done) {
      t.expires_at(*last + limit);
      co_await t.async_wait(kUse);
      if (!*done && Clock::now() - *last >= limit) {
        a.error = "idle for " + std::to_string(ctx.config.idle_timeout_ms / 1000) + " s";
        close_both();
      }
    }
  };
  // The idle watch ends when both copies have: `||` cancels it then.
  co_await ((copy_up() && copy_down()) || idle());
  close_both();
}

// The refusal as the client's protocol says it.
std::string refusal_reply(const ProxyRequest& req, const policy::EgressDecision& d) {
  if (req.protocol == ProxyProtocol::kSocks5) return socks5_reply(Socks5Reply::kNotAllowedByRuleset);
  return forbidden_response(authority_text(req.destination), d.rule,
                            d.fix.empty() ? std::string() : "hull run " + d.fix + " ...");
}

std::string failure_reply(const ProxyRequest& req, const std::string& why, bool timed_out) {
  if (req.protocol == ProxyProtocol::kSocks5)
    return socks5_reply(timed_out ? Socks5Reply::kHostUnreachable : Socks5Reply::kConnectionRefused);
  return timed_out ? gateway_timeout_response(authority_text(req.destination), why)
                   : bad_gateway_response(authority_text(req.destination), why);
}

// Decides one request (host, then addresses), then dials. Fills `a`; on a
// refusal or failure writes the reply and returns nullopt.
asio::awaitable<std::optional<tcp::socket>> admit_and_dial(EgressContext& ctx, Desc& client,
                                                            const ProxyRequest& req, Attempt& a) {
  a.protocol = protocol_name(req.protocol);
  a.method = req.method;
  a.host = req.destination.host;
  a.port = req.destination.port;
  a.path = req.origin_form;
  auto host = policy::normalize_host(req.destination.host);
  if (!host) {
    a.rule = "the host name";
    a.reason = host.error().message();
    co_await write_all(client, req.protocol == ProxyProtocol::kSocks5
                                   ? socks5_reply(Socks5Reply::kGeneralFailure)
                                   : bad_request_response("the host is not a valid name or address: " +
                                                          host.error().message()));
    co_return std::nullopt;
  }
  a.host = host->text;
  policy::EgressDecision d = decide_host(ctx.policy, *host, req.destination.port);
  if (d.allowed && req.protocol == ProxyProtocol::kHttpForward)
    d = decide_request(ctx.policy, *host, req.destination.port, req.method, req.origin_form);
  if (d.allowed && req.protocol != ProxyProtocol::kHttpForward &&
      has_request_rules(ctx.policy, *host, req.destination.port)) {
    // Method/path rules on a tunnelled host need TLS interception, which
    // this build does not do yet: refusing is the only honest answer.
    d.allowed = false;
    d.reason = "method/path rules for this host need TLS interception, which this build does not have yet";
    d.fix = "";
  }
  a.rule = d.rule;
  a.reason = d.reason;
  if (!d.allowed) {
    co_await write_all(client, refusal_reply(req, d));
    co_return std::nullopt;
  }
  auto addrs = co_await resolve_host(ctx, *host);
  if (!addrs) {
    a.allowed = false;
    a.error = addrs.error().message();
    co_await write_all(client, failure_reply(req, "no address for " + host->text, false));
    co_return std::nullopt;
  }
  d = decide_addresses(ctx.policy, *host, d, *addrs, req.destination.port, ctx.host_own);
  a.rule = d.rule;
  a.reason = d.reason;
  if (!d.allowed) {
    co_await write_all(client, refusal_reply(req, d));
    co_return std::nullopt;
  }
  a.allowed = true;
  Dialed up = co_await dial(ctx, *addrs, req.destination.port);
  if (!up.socket) {
    a.error = up.error;
    co_await write_all(client, failure_reply(req, up.error, up.error.find("timed out") == 0));
    co_return std::nullopt;
  }
  a.address = up.address;
  co_return std::move(up.socket);
}

// Reads the next request head. `pending` holds bytes read but not yet
// used; on return it holds what followed the head.
asio::awaitable<std::optional<ProxyRequest>> read_request(EgressContext& ctx, Desc& client, Opening opening,
                                                          std::string& pending, Attempt& a) {
  ProxyRequestParser parser(opening);
  std::vector<char> buf(kChunk);
  const auto deadline = Clock::now() + std::chrono::milliseconds(ctx.config.header_timeout_ms);
  for (;;) {
    if (!pending.empty()) {
      ParseStep step = parser.feed(pending);
      if (!co_await write_all(client, step.reply)) co_return std::nullopt;
      switch (step.kind) {
        case ParseStep::Kind::kDone:
          pending.erase(0, step.consumed);
          co_return std::move(step.request);
        case ParseStep::Kind::kRefused:
          a.reason = step.refusal ? step.refusal->message() : "refused";
          a.rule = "the request";
          co_return std::nullopt;
        case ParseStep::Kind::kNeedMore:
          pending.clear();
          break;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      a.error = "no complete request within " + std::to_string(ctx.config.header_timeout_ms / 1000) + " s";
      co_return std::nullopt;
    }
    auto [ec, n] = co_await read_with_deadline(client, buf, left);
    if (ec) {
      if (ec != asio::error::eof || a.protocol.empty()) a.error = ec == asio::error::eof ? "" : ec.message();
      co_return std::nullopt;
    }
    pending.assign(buf.data(), n);
  }
}

// A forwarded http:// request: its head in origin-form with "Connection:
// close", then exactly its body; then the response until the origin closes.
asio::awaitable<bool> forward_one(EgressContext& ctx, Desc& client, tcp::socket& upstream,
                                  const ProxyRequest& req, std::string& pending, Attempt& a) {
  std::string head = upstream_request_head(req);
  // One request per origin connection: the origin's close marks the end of
  // its response, and the next request gets a decision and a dial of its own.
  head.insert(head.size() - 2, "Connection: close\r\n");
  if (!co_await write_all(upstream, head)) co_return false;
  RequestBodyFramer body(req);
  std::vector<char> buf(kChunk);
  while (!body.finished()) {
    if (pending.empty()) {
      auto [ec, n] = co_await read_with_deadline(client, buf, std::chrono::milliseconds(ctx.config.idle_timeout_ms));
      if (ec) co_return false;
      pending.assign(buf.data(), n);
    }
    std::string out;
    auto p = body.feed(pending, out);
    if (!p) {
      a.error = p.error().message();
      co_return false;
    }
    pending.erase(0, p->used);
    a.up += out.size();
    if (!co_await write_all(upstream, out)) co_return false;
  }
  for (;;) {
    auto [ec, n] = co_await read_with_deadline(upstream, buf, std::chrono::milliseconds(ctx.config.idle_timeout_ms));
    if (ec == asio::error::eof) co_return true;
    if (ec) {
      a.error = ec.message();
      co_return false;
    }
    if (!co_await write_all(client, std::string_view(buf.data(), n))) co_return false;
    a.down += n;
  }
}

}  // namespace

Result<policy::EgressPolicy> policy_from_config(const EgressConfig& c) {
  policy::EgressPolicy p;
  HULL_ASSIGN(p.preset, policy::parse_preset(c.preset));
  for (const auto& r : c.allow) {
    HULL_ASSIGN(auto rule, policy::parse_egress_rule(r));
    p.allow.push_back(std::move(rule));
  }
  for (const auto& r : c.deny) {
    HULL_ASSIGN(auto rule, policy::parse_egress_rule(r));
    p.deny.push_back(std::move(rule));
  }
  for (const auto& h : c.package_hosts) {
    HULL_ASSIGN(auto rule, policy::parse_image_source(h));
    p.image_sources.push_back(std::move(rule));
  }
  for (const auto& hp : c.test_loopback) {
    auto colon = hp.rfind(':');
    if (colon == std::string::npos) return make_error("test loopback exception", "not host:port: " + hp);
    HULL_ASSIGN(auto addr, policy::parse_ip_literal(hp.substr(0, colon)));
    if (!addr) return make_error("test loopback exception", "not an address: " + hp);
    p.loopback_exceptions.emplace_back(*addr, static_cast<uint16_t>(std::stoul(hp.substr(colon + 1))));
  }
  return p;
}

asio::awaitable<void> serve_connection(EgressContext& ctx, UniqueFd fd, uint64_t id, std::string who) {
  Desc client(ctx.ex, fd.release());
  std::string pending;
  Opening opening = Opening::kNewConnection;
  for (;;) {
    Attempt a;
    auto req = co_await read_request(ctx, client, opening, pending, a);
    if (!req) {
      // A client that connected and said nothing (or closed after its last
      // kept-alive request) is no attempt; anything else is logged.
      if (!a.reason.empty() || !a.error.empty()) emit(ctx, a, id, who);
      co_return;
    }
    auto upstream = co_await admit_and_dial(ctx, client, *req, a);
    if (!upstream) {
      emit(ctx, a, id, who);
      co_return;  // refusals and failures close the connection
    }
    if (req->protocol != ProxyProtocol::kHttpForward) {
      const std::string ok = req->protocol == ProxyProtocol::kSocks5 ? socks5_reply(Socks5Reply::kSucceeded)
                                                                      : connect_established_response();
      if (co_await write_all(client, ok) && co_await write_all(*upstream, pending)) {
        a.up += pending.size();
        co_await tunnel(ctx, client, *upstream, a);
      }
      emit(ctx, a, id, who);
      co_return;
    }
    const bool carried = co_await forward_one(ctx, client, *upstream, *req, pending, a);
    emit(ctx, a, id, who);
    if (!carried || !req->keep_alive) co_return;
    opening = Opening::kNextHttpRequest;
  }
}

}  // namespace hull::egress
