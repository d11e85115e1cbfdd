// Reaper: the agent's only caller of waitpid(). On SIGCHLD it reaps every
// zombie (as PID 1 or subreaper, orphans are ours too); statuses of children
// we spawned go to their ChildWatch, the rest are just reaped.
//
// Usage:
//   1. Reaper r(ex); r.start();           — before the first fork
//   2. auto w = r.watch(pid);             — right after fork, before any co_await,
//                                           so the exit cannot be reaped unseen
//   3. co_await w->wait();                — the ExitStatus
#pragma once

#include <sys/types.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/signal_set.hpp>
#include <map>
#include <memory>
#include <optional>

#include "agent/wakeup.h"

namespace hull::agent {

struct ExitStatus {
  int exit_code = -1;  // valid when signal == 0
  int signal = 0;      // the signal that killed it
};

class ChildWatch {
 public:
  explicit ChildWatch(const asio::any_io_executor& ex, pid_t pid) : pid_(pid), exited_(ex) {}
  pid_t pid() const { return pid_; }
  bool exited() const { return status_.has_value(); }
  asio::awaitable<ExitStatus> wait();
  void set(ExitStatus s) {
    status_ = s;
    exited_.notify();
  }

 private:
  pid_t pid_;
  std::optional<ExitStatus> status_;
  Wakeup exited_;
};

class Reaper {
 public:
  explicit Reaper(const asio::any_io_executor& ex);
  void start();
  std::shared_ptr<ChildWatch> watch(pid_t pid);
  // Children we spawned that have not exited yet.
  size_t live() const { return watched_.size(); }
  // Until waitpid says we have no children at all (ECHILD): every process
  // we are the (sub)reaper of is gone. false if `deadline` came first.
  asio::awaitable<bool> wait_no_children(Wakeup::Clock::time_point deadline);
  // Reap now (also called from the SIGCHLD loop).
  void reap();

 private:
  asio::awaitable<void> loop();

  asio::any_io_executor ex_;
  asio::signal_set sigchld_;
  std::map<pid_t, std::shared_ptr<ChildWatch>> watched_;
  bool no_children_ = false;
  Wakeup changed_;
};

}  // namespace hull::agent
