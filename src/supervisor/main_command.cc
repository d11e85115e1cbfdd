// The sandbox's main command in detach mode (`hull run -d`), where the
// supervisor runs it itself with output to main.log.
#include "base/log.h"
#include "supervisor/supervisor_core.h"

namespace hull::supervisor {

namespace {

// main.log is for a human looking back (`hull logs`); a command that prints
// forever must not fill the disk.
constexpr size_t kMainLogCap = 16u << 20;

}  // namespace

asio::awaitable<void> run_detached_main(Supervisor& sup) {
  const SandboxSpec& spec = sup.spec();
  wire::ExecRequest req = own_request(spec, spec.command);
  req.timeout_ms = spec.timeout_ms;
  CappedLog out(sup.dir() + "/main.log", kMainLogCap);
  CapturedEnd end = co_await run_captured(sup, std::move(req), "main command",
                                          [&](std::span<const std::byte> b) { out.write(b); });
  switch (end.kind) {
    case CapturedEnd::Kind::kNotStarted:
      sup.stop(Outcome{true, "start main command: " + end.note, std::nullopt});
      break;
    case CapturedEnd::Kind::kExited:
      sup.main_command_ended(end.status, end.note);
      break;
    case CapturedEnd::Kind::kAborted:
      sup.main_command_ended(std::nullopt, "main command aborted: " + end.note);
      break;
    case CapturedEnd::Kind::kGone:
      break;  // the sandbox is already ending, and says why
  }
}

}  // namespace hull::supervisor
