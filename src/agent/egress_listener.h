// The sandbox's one way out: a TCP listener on 127.0.0.1:3128 inside the
// sandbox that hands each connection to the host on a stream the host
// parked here (wire::EgressAccept). The host's egress process speaks HTTP
// proxy and SOCKS5 on it; the agent only carries bytes.
//
// With it, a stub resolver on 127.0.0.1:53 (UDP), named by the sandbox's
// /etc/resolv.conf: each query goes up on a parked stream (EgressConnected
// kind "dns") and the host's answer comes back. The host decides on its
// own lookup; no packet leaves the sandbox.
//
// The listener opens when the host parks its first stream (a sandbox
// without network never gets one, so nothing listens there), before any
// user process runs, so nothing else can take the port first. With no
// parked stream left the agent stops accepting: clients wait in the listen
// backlog until the host parks another.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "agent/agent_state.h"
#include "agent/wakeup.h"
#include "wire/channel.h"

namespace hull::agent {

class EgressListener {
 public:
  explicit EgressListener(AgentState& state) : state_(state), parked_changed_(state.ex) {}

  // A stream the host opened with EgressAccept. Starts the listener on the
  // first call; a stream that cannot be served is reset with why.
  void park(std::shared_ptr<wire::Stream> stream);
  void close();

 private:
  asio::awaitable<void> accept_loop();
  void start_dns();
  asio::awaitable<void> dns_loop();
  asio::awaitable<void> answer_dns(std::vector<std::byte> query, asio::ip::udp::endpoint from);
  // The next parked stream that takes `hello`, waiting for one if need be;
  // nullptr once closed.
  asio::awaitable<std::shared_ptr<wire::Stream>> take_parked(const wire::EgressConnected& hello);

  AgentState& state_;
  std::optional<asio::ip::tcp::acceptor> acceptor_;
  std::optional<asio::ip::udp::socket> dns_;
  std::deque<std::shared_ptr<wire::Stream>> parked_;
  Wakeup parked_changed_;
  bool closed_ = false;
};

// "pid 42 curl" for the process holding the client end of a loopback TCP
// connection from `client_port`, or "port N" if it cannot be found (the
// process may have exited or the lookup is too costly). Display only.
std::string describe_local_client(uint16_t client_port);

}  // namespace hull::agent
