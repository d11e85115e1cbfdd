// The supervisor's side of a sandbox's network (ARCHITECTURE.md: egress):
// starts the sandbox's egress process (`hull __egress`, its own confined
// process), parks EgressAccept streams with the agent, and for each
// connection the agent reports, hands the egress process one end of a
// fresh socketpair (fd passing on their link) and pumps the stream into the
// other end. The events the egress process sends back become lines of
// network.log in the sandbox's directory (`hull logs --network`).
//
// The egress process may die (a bug, a kill): its connections fail, the
// death is logged in network.log and supervisor.log, and the next
// connection starts a new one. It never takes the sandbox down.
#pragma once

#include <sys/types.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "base/fd.h"
#include "base/result.h"
#include "egress/egress_config.h"
#include "wire/channel.h"

namespace hull::supervisor {

class Supervisor;

std::string network_log_path(const std::string& sandbox_dir);  // dir + "/network.log"

// What network.log holds, counted (`hull inspect`).
struct NetworkCounts {
  uint64_t attempts = 0, allowed = 0, refused = 0, aborted = 0;
  uint64_t bytes_up = 0, bytes_down = 0;
};
NetworkCounts count_network_events(const std::string& sandbox_dir);

// Append-only JSON lines with a size cap: a line is written whole or not at
// all, and once full one last line says so.
class NetworkLog {
 public:
  NetworkLog(const std::string& path, size_t cap);
  void append(const std::string& json_line);
  uint64_t lines() const { return lines_; }

 private:
  UniqueFd fd_;
  size_t cap_;
  size_t written_ = 0;
  uint64_t lines_ = 0;
  bool full_ = false;
};

class EgressBridge {
 public:
  EgressBridge(Supervisor& sup, egress::EgressConfig config);
  ~EgressBridge();

  // Starts the egress process and parks the first streams with the agent.
  // Before the sandbox is reported ready, so no command runs without them.
  boost::asio::awaitable<Status> start();
  void stop();  // kills the egress process; connections fail

  uint64_t connections() const { return connections_; }

 private:
  Status spawn_process();
  boost::asio::awaitable<void> read_events(uint64_t generation);
  boost::asio::awaitable<void> park_one();
  boost::asio::awaitable<void> serve(std::shared_ptr<wire::Stream> stream);
  void process_gone(const std::string& why);
  void supervisor_event(const std::string& kind, const std::string& detail);

  Supervisor& sup_;
  egress::EgressConfig config_;
  NetworkLog log_;
  // The running egress process (pid 0: none).
  pid_t pid_ = 0;
  UniqueFd pidfd_;
  std::optional<boost::asio::posix::stream_descriptor> link_;
  uint64_t generation_ = 0;  // which process's events a reader is for
  uint32_t restarts_ = 0;
  uint32_t parked_ = 0;
  uint32_t open_ = 0;  // connections being pumped
  uint64_t connections_ = 0;
  bool stopped_ = false;
};

}  // namespace hull::supervisor
