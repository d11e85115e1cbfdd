#include "agent/reaper.h"

#include <sys/wait.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cerrno>
#include <csignal>

namespace hull::agent {

asio::awaitable<ExitStatus> ChildWatch::wait() {
  while (!status_) co_await exited_.wait();
  co_return *status_;
}

Reaper::Reaper(const asio::any_io_executor& ex) : ex_(ex), sigchld_(ex), changed_(ex) {}

void Reaper::start() {
  sigchld_.add(SIGCHLD);
  asio::co_spawn(ex_, loop(), asio::detached);
}

std::shared_ptr<ChildWatch> Reaper::watch(pid_t pid) {
  auto w = std::make_shared<ChildWatch>(ex_, pid);
  watched_[pid] = w;
  no_children_ = false;
  return w;
}

void Reaper::reap() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) {  // ECHILD: nobody left to wait for
      no_children_ = true;
      changed_.notify();
      return;
    }
    if (pid == 0) return;  // children exist, none exited yet
    auto it = watched_.find(pid);
    if (it == watched_.end()) continue;  // an orphan we inherited: reaping is all it needs
    ExitStatus s;
    if (WIFEXITED(status)) s.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) s.signal = WTERMSIG(status);
    auto w = std::move(it->second);
    watched_.erase(it);
    w->set(s);
    changed_.notify();
  }
}

asio::awaitable<void> Reaper::loop() {
  // SIGCHLD is not queued: one delivery may stand for many exits, hence the
  // waitpid loop in reap() rather than one waitpid per signal.
  for (;;) {
    auto [ec, signo] = co_await sigchld_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted) co_return;
    reap();
  }
}

asio::awaitable<bool> Reaper::wait_no_children(Wakeup::Clock::time_point deadline) {
  reap();
  while (!no_children_) {
    if (!co_await changed_.wait_until(deadline)) break;
    // One reaped child does not mean the last one went: ask waitpid again.
    reap();
  }
  co_return no_children_;
}

}  // namespace hull::agent
