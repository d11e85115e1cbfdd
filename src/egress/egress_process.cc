#include "egress/egress_process.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/time_text.h"
#include "egress/confinement.h"
#include "egress/connection.h"
#include "egress/control_link.h"

namespace hull::egress {

namespace {

namespace asio = boost::asio;
using Json = nlohmann::json;

// The addresses of this host's own interfaces: a name that resolves to one
// of them is refused like loopback (the sandbox must not reach services
// listening on the host).
std::vector<policy::NetAddress> host_addresses() {
  std::vector<policy::NetAddress> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    if (i->ifa_addr->sa_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      out.push_back(policy::NetAddress::v4(ntohl(in->sin_addr.s_addr)));
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      std::array<uint8_t, 16> b{};
      std::memcpy(b.data(), in6->sin6_addr.s6_addr, 16);
      out.push_back(policy::NetAddress::v6(b));
    }
  }
  ::freeifaddrs(list);
  return out;
}

void send_event(int link, const Json& event) {
  // The link is blocking on this side; the supervisor reads it at once.
  (void)send_link_message(link, Json{{"event", event}}.dump(-1, ' ', false, Json::error_handler_t::replace));
}

void note(int link, const std::string& kind, const std::string& detail) {
  send_event(link, Json{{"time", now_rfc3339()}, {"kind", kind}, {"detail", detail}});
}

asio::awaitable<void> accept_connections(EgressContext& ctx, asio::posix::stream_descriptor& link) {
  for (;;) {
    auto [ec] = co_await link.async_wait(asio::posix::descriptor_base::wait_read,
                                         asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    auto msg = receive_link_message(link.native_handle());
    if (!msg || msg->json.empty()) co_return;  // the supervisor is gone: so are we
    Json j = Json::parse(msg->json, nullptr, false);
    if (!j.is_object() || !j.contains("conn") || !msg->fd) continue;
    const uint64_t id = j["conn"].value("id", uint64_t{0});
    const std::string who = j["conn"].value("client", std::string());
    const bool dns = j["conn"].value("kind", std::string()) == "dns";
    if (ctx.open >= ctx.config.max_connections) continue;  // the fd closes: the client sees the end
    ++ctx.open;
    asio::co_spawn(ctx.ex,
                   dns ? answer_dns_query(ctx, std::move(msg->fd), id, who)
                       : serve_connection(ctx, std::move(msg->fd), id, who),
                   [&ctx](std::exception_ptr e) {
                     --ctx.open;
                     if (!e) return;
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       ctx.emit(Json{{"time", now_rfc3339()}, {"kind", "egress-error"}, {"detail", ex.what()}});
                     }
                   });
  }
}

}  // namespace

int run_egress_process(UniqueFd link) {
  ::signal(SIGPIPE, SIG_IGN);
  auto first = receive_link_message(link.get());
  if (!first || first->json.empty()) {
    std::fprintf(stderr, "hull __egress: no config on fd 3 (this is started by a sandbox's supervisor)\n");
    return 2;
  }
  Json j = Json::parse(first->json, nullptr, false);
  auto config = j.is_object() && j.contains("config") ? config_from_json(j["config"])
                                                      : Result<EgressConfig>(make_error("egress config", "missing"));
  if (!config) {
    note(link.get(), "egress-failed", config.error().message());
    return 2;
  }
  auto policy = policy_from_config(*config);
  if (!policy) {
    note(link.get(), "egress-failed", policy.error().message());
    return 2;
  }
  asio::io_context io;
  EgressContext ctx{io.get_executor(), *config, std::move(*policy), host_addresses(), {}, {}, 0};
  for (const auto& h : config->test_hosts) {
    for (const auto& a : h.addresses) {
      auto addr = policy::parse_ip_literal(a);
      if (addr && *addr) ctx.test_hosts[h.name].push_back(**addr);
    }
  }
  const int link_fd = link.get();
  ctx.emit = [link_fd](const Json& e) { send_event(link_fd, e); };

  // Everything that needs a file is loaded; from here on nothing is opened
  // for writing, nothing executed, no capability held.
  auto confined = confine_egress_process();
  if (!confined) {
    note(link_fd, "egress-failed", "could not confine the egress process: " + confined.error().message());
    return 3;
  }
  note(link_fd, "egress-started", *confined);

  asio::posix::stream_descriptor link_desc(io, link.release());
  asio::co_spawn(io, accept_connections(ctx, link_desc), [&io](std::exception_ptr) { io.stop(); });
  io.run();
  return 0;
}

}  // namespace hull::egress
