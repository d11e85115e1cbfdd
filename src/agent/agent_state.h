// What the agent's sessions share: the executor, the reaper, the channel and
// the set of process groups still running (for Shutdown and channel loss).
// One thread touches it (the io_context's), so no locking.
#pragma once

#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>
#include <set>
#include <string>

#include "agent/reaper.h"
#include "agent/wakeup.h"
#include "wire/channel.h"

namespace hull::agent {

struct AgentState {
  AgentState(const asio::any_io_executor& e, Reaper& r, wire::Channel& c, bool is_pid1)
      : ex(e), reaper(r), channel(c), pid1(is_pid1), groups_changed(e) {}

  asio::any_io_executor ex;
  Reaper& reaper;
  wire::Channel& channel;
  bool pid1 = false;
  bool shutting_down = false;   // new exec/file streams are refused
  std::set<pid_t> groups;       // pgid of every exec session still running
  Wakeup groups_changed;        // an exec session ended (sent or gave up on ExecExit)
};

// Writes "hull-agent: <msg>" to stderr: operators read the agent's console;
// nothing here may depend on spdlog (the agent is static and tiny).
void log_line(const std::string& msg);

}  // namespace hull::agent
