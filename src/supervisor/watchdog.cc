// The supervisor's watchdog: a sandbox that stops answering, or that its
// backend calls broken, is stopped and reported — not left to hang a client.
//
// Every tick it (1) asks the Instance for a health problem (a microVM that
// flooded its console), and (2) keeps one Health ping outstanding to the
// agent; if the answer takes longer than the agent timeout, the sandbox is
// declared hung. The timeout is generous by default (a TCG guest under full
// load is slow, not dead); HULL_AGENT_TIMEOUT_MS overrides it.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>

#include "base/log.h"
#include "supervisor/supervisor_core.h"

namespace hull::supervisor {

namespace {

using namespace std::chrono_literals;
using asio::as_tuple;
using asio::use_awaitable;

constexpr std::chrono::milliseconds kDefaultAgentTimeout = 30s;
constexpr std::chrono::milliseconds kMaxTick = 2s;

std::chrono::milliseconds agent_timeout() {
  if (const char* v = std::getenv("HULL_AGENT_TIMEOUT_MS"); v != nullptr && *v != '\0') {
    char* end = nullptr;
    long ms = std::strtol(v, &end, 10);
    if (end != nullptr && *end == '\0' && ms >= 200 && ms <= 3'600'000) return std::chrono::milliseconds(ms);
    log::warn("ignoring HULL_AGENT_TIMEOUT_MS={} (want 200..3600000)", v);
  }
  return kDefaultAgentTimeout;
}

}  // namespace

asio::awaitable<void> Supervisor::watchdog() {
  const auto timeout = agent_timeout();
  const auto tick = std::min(kMaxTick, timeout / 4);
  asio::steady_timer timer(executor());
  for (;;) {
    timer.expires_after(tick);
    auto [ec] = co_await timer.async_wait(as_tuple(use_awaitable));
    if (ec || stopping() || !instance_ || !agent_) co_return;
    if (std::string p = instance_->health_problem(); !p.empty()) {
      log::warn("watchdog: {}", p);
      stop(Outcome{true, p, std::nullopt});
      co_return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (watchdog_ping_sent_) {
      if (now - *watchdog_ping_sent_ > timeout) {
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout).count();
        std::string why = with_explanation("sandbox hung: its agent answered no health check for " +
                                           std::to_string(secs == 0 ? 1 : secs) + " s");
        log::warn("watchdog: {}", why);
        stop(Outcome{true, why, std::nullopt});
        co_return;
      }
    } else {
      watchdog_ping_sent_ = now;
      health_waiters_.push_back(std::nullopt);
      asio::co_spawn(executor(), agent_->send_control(wire::Health{}), asio::detached);
    }
  }
}

}  // namespace hull::supervisor
