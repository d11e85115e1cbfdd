// Wakeup: a condition variable for one single-threaded io_context. A waiter
// re-checks its condition in a loop and sleeps in wait()/wait_until();
// notify() wakes every current waiter. No wake-up can be lost between the
// check and the wait because nothing else runs in between (one thread).
#pragma once

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <vector>

namespace hull::agent {

namespace asio = boost::asio;

class Wakeup {
 public:
  using Clock = asio::steady_timer::clock_type;
  explicit Wakeup(const asio::any_io_executor& ex) : ex_(ex) {}

  asio::awaitable<void> wait() { (void)co_await wait_until(Clock::time_point::max()); }
  // false once `deadline` passed without a notify(). A timer per waiter, so a
  // timed wait (e.g. Shutdown's grace racing the reaper) needs no sleep loop.
  asio::awaitable<bool> wait_until(Clock::time_point deadline) {
    asio::steady_timer t(ex_, deadline);
    waiting_.push_back(&t);
    struct Unlist {  // also runs if the coroutine is destroyed mid-wait
      std::vector<asio::steady_timer*>& v;
      asio::steady_timer* t;
      ~Unlist() { v.erase(std::remove(v.begin(), v.end(), t), v.end()); }
    } unlist{waiting_, &t};
    auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return ec == asio::error::operation_aborted;
  }
  void notify() {
    for (auto* t : waiting_) t->cancel();
  }

 private:
  asio::any_io_executor ex_;
  std::vector<asio::steady_timer*> waiting_;
};

}  // namespace hull::agent
