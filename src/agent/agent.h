// Agent: serves one channel as the responder. After the handshake it sends
// Ready, then answers control messages (Health, Shutdown) and serves every
// stream the host opens (exec, file, egress) concurrently on one io_context.
//
// Usage:
//   1. Agent a(ex, channel_fd, pid1, startup_events);
//   2. int code = co_await a.run();   — returns when the agent should exit
//   3. the caller _exits with `code` (as PID 1 that ends the namespace)
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <optional>
#include <vector>

#include "agent/agent_state.h"
#include "agent/egress_listener.h"
#include "agent/reaper.h"
#include "agent/wakeup.h"
#include "base/fd.h"
#include "wire/channel.h"
#include "wire/messages.h"

namespace hull::agent {

class Agent {
 public:
  Agent(const asio::any_io_executor& ex, UniqueFd channel_fd, bool pid1,
        std::vector<wire::Event> startup_events);
  asio::awaitable<int> run();

 private:
  asio::awaitable<void> read_channel();
  asio::awaitable<void> serve_control();
  asio::awaitable<void> accept_streams();
  asio::awaitable<void> watch_signals();
  // Stop everything and make run() return `code`: SIGTERM, wait up to
  // `grace` for the reaper to see every child go, SIGKILL the rest, let the
  // exec sessions report, close the channel.
  asio::awaitable<void> shutdown(std::chrono::milliseconds grace, int code);
  void kill_all(int signo);

  asio::any_io_executor ex_;
  wire::Channel channel_;
  Reaper reaper_;
  AgentState state_;
  EgressListener egress_;
  asio::signal_set term_;
  std::vector<wire::Event> startup_events_;
  std::chrono::steady_clock::time_point started_;
  bool channel_ended_ = false;
  Wakeup channel_ended_wakeup_;
  std::optional<int> exit_code_;
  Wakeup exit_wakeup_;
};

}  // namespace hull::agent
