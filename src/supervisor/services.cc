// The image's services and health check, run by the supervisor inside the
// sandbox for as long as it lives. Both are the image author's commands (not
// the guest's choice), but what they print and how they end comes from the
// sandbox: output is capped, and state.json records only bounded text.
#include <sys/stat.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "base/log.h"
#include "supervisor/supervisor_core.h"

namespace hull::supervisor {

namespace {

using namespace std::chrono_literals;
using asio::as_tuple;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

constexpr size_t kServiceLogCap = 4u << 20;
// A service that ran this long before it ended was not crash-looping: its
// next restart waits the shortest time again.
constexpr auto kSteadyRun = 10s;
constexpr auto kFirstBackoff = 500ms;
constexpr auto kMaxBackoff = 30s;
// The agent kills a check at its timeout; past this much more, the
// supervisor stops waiting for it (an agent that ignores timeouts).
constexpr auto kCheckGrace = 2s;
// What state.json keeps of a failed check's output.
constexpr size_t kHealthOutputCap = 1024;

// Sleeps `d`; false if the sandbox began stopping meanwhile (or the timer
// was cancelled).
asio::awaitable<bool> pause(Supervisor& sup, std::chrono::milliseconds d) {
  asio::steady_timer t(sup.executor());
  t.expires_after(d);
  auto [ec] = co_await t.async_wait(as_tuple(use_awaitable));
  co_return !ec && !sup.stopping();
}

bool wants_restart(image::RestartPolicy r, int status) {
  switch (r) {
    case image::RestartPolicy::kNo: return false;
    case image::RestartPolicy::kOnFailure: return status != 0;
    case image::RestartPolicy::kAlways: return true;
  }
  return false;
}

// Printable ASCII, one line, at most kHealthOutputCap bytes: it lands in
// state.json (whose JSON writer rejects invalid UTF-8) and on a terminal
// via `hull inspect`.
std::string shown_output(const std::string& raw) {
  std::string out;
  for (char c : raw.substr(0, kHealthOutputCap)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u == '\n' || u == '\t') ? ' ' : (u < 0x20 || u >= 0x7f) ? '?' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

asio::awaitable<void> run_service(Supervisor& sup, size_t index) {
  const image::Service svc = sup.spec().services.at(index);
  const std::string what = "service " + svc.name;
  ::mkdir((sup.dir() + "/services").c_str(), 0750);
  CappedLog log_file(sup.dir() + "/services/" + svc.name + ".log", kServiceLogCap);
  ServiceState st;
  st.name = svc.name;
  auto backoff = std::chrono::milliseconds(kFirstBackoff);
  while (!sup.stopping()) {
    st.status = "running";
    sup.set_service_state(index, st);
    const auto began = Clock::now();
    CapturedEnd end = co_await run_captured(sup, own_request(sup.spec(), svc.cmd), what,
                                            [&](std::span<const std::byte> b) { log_file.write(b); });
    if (end.kind == CapturedEnd::Kind::kGone || sup.stopping()) co_return;
    const int status = end.kind == CapturedEnd::Kind::kExited ? end.status : 128;
    st.exit_code = status;
    const std::string why = end.kind == CapturedEnd::Kind::kExited
                                ? "exited with status " + std::to_string(status)
                                : (end.kind == CapturedEnd::Kind::kNotStarted ? "could not start: " : "aborted: ") +
                                      end.note;
    log::info("{} {}", what, why);
    log_file.note("[hull: " + svc.name + " " + why + "]\n");
    // A command that cannot start will not start next time either.
    if (end.kind == CapturedEnd::Kind::kNotStarted || !wants_restart(svc.restart, status)) {
      st.status = status == 0 ? "exited" : "failed";
      sup.set_service_state(index, st);
      co_return;
    }
    if (Clock::now() - began >= kSteadyRun) backoff = kFirstBackoff;
    st.status = "restarting";
    sup.set_service_state(index, st);
    if (!co_await pause(sup, backoff)) co_return;
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
    ++st.restarts;
  }
}

asio::awaitable<void> run_healthcheck(Supervisor& sup) {
  const image::HealthCheck hc = *sup.spec().healthcheck;
  uint32_t failures = 0;
  std::string status = "starting";
  for (;;) {
    if (!co_await pause(sup, std::chrono::milliseconds(hc.interval_ms))) co_return;
    wire::ExecRequest req = own_request(sup.spec(), hc.cmd);
    req.timeout_ms = hc.timeout_ms;
    std::string output;
    CapturedEnd end = co_await run_captured(
        sup, std::move(req), "health check",
        [&](std::span<const std::byte> b) {
          const size_t room = kHealthOutputCap - std::min(kHealthOutputCap, output.size());
          output.append(reinterpret_cast<const char*>(b.data()), std::min(room, b.size()));
        },
        std::chrono::milliseconds(hc.timeout_ms) + kCheckGrace);
    if (end.kind == CapturedEnd::Kind::kGone || sup.stopping()) co_return;
    const bool ok = end.kind == CapturedEnd::Kind::kExited && end.status == 0;
    if (ok) {
      if (status != "healthy" || failures != 0) sup.set_health("healthy", 0, "");
      status = "healthy";
      failures = 0;
      continue;
    }
    ++failures;
    std::string why = end.kind == CapturedEnd::Kind::kExited ? "status " + std::to_string(end.status) : end.note;
    if (!end.note.empty() && end.kind == CapturedEnd::Kind::kExited) why += " (" + end.note + ")";
    if (failures >= hc.retries) status = "unhealthy";
    sup.set_health(status, failures, shown_output(why + ": " + output));
  }
}

}  // namespace hull::supervisor
