// `hull stop` and `hull rm`. Stopping asks the supervisor (Shutdown on the
// control stream) and waits for it to exit; if it does not answer, SIGTERM,
// and for rm -f finally SIGKILL + reap_if_dead, so `rm -f` always ends with
// nothing left running.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "base/fd.h"
#include "cli/client_session.h"
#include "cli/commands.h"
#include "cli/sandbox_ref.h"
#include "supervisor/supervisor.h"

namespace hull::cli {

namespace {

using namespace std::chrono_literals;

// Signals the supervisor only if the record still says it is the live one
// (observed_state checks the pid is ours), through a pidfd so a recycled
// pid can never be hit.
Status signal_supervisor(const SandboxRef& sb, int signo) {
  pid_t pid = sb.state.supervisor_pid;
  if (pid <= 0) return ok_status();
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) return errno == ESRCH ? ok_status() : sys_error("pidfd_open " + std::to_string(pid));
  auto now = supervisor::observed_state(sb.dir);
  if (!now || is_final(now->status) || now->supervisor_pid != pid) return ok_status();
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), signo, nullptr, 0) < 0 && errno != ESRCH)
    return sys_error("signal supervisor " + std::to_string(pid));
  return ok_status();
}

Status stop_sandbox(const SandboxRef& sb) {
  int asked = run_session(
      sb.state.socket, "client",
      [](wire::Channel& ch) -> boost::asio::awaitable<int> {
        auto st = co_await ch.send_control(wire::Shutdown{});
        co_return st ? 0 : kExitHullError;
      },
      /*report_errors=*/false);
  if (asked == 0 && wait_supervisor_exit(sb, 30s)) return ok_status();
  // No answer on the socket (or too slow): the supervisor also stops on SIGTERM.
  HULL_TRY(signal_supervisor(sb, SIGTERM));
  return wait_supervisor_exit(sb, 15s);
}

int remove_one(const std::string& name, bool force) {
  auto sb = find_sandbox(name);
  if (!sb) return fail(sb.error());
  if (!is_final(sb->state.status) && sb->state.supervisor_pid > 0) {
    if (!force) return fail("sandbox '" + name + "' is running", "hull stop it first or use rm -f");
    if (auto st = stop_sandbox(*sb); !st) {
      std::fprintf(stderr, "hull: %s; killing the supervisor\n", st.error().message().c_str());
      (void)signal_supervisor(*sb, SIGKILL);
      if (auto w = wait_supervisor_exit(*sb, 10s); !w) return fail(w.error());
    }
  }
  // Whatever a killed (or crashed) supervisor left: processes, cgroups, socket.
  if (auto st = supervisor::reap_if_dead(sb->dir); !st) return fail("clean up sandbox '" + name + "': " + st.error().message());
  if (auto st = remove_sandbox_record(*sb); !st) return fail(st.error());
  std::printf("%s\n", name.c_str());
  return 0;
}

}  // namespace

int cmd_stop(const std::string& name) {
  auto sb = find_sandbox(name);
  if (!sb) return fail(sb.error());
  if (is_final(sb->state.status)) return 0;  // already stopped: nothing to do
  if (auto st = stop_sandbox(*sb); !st) return fail(st.error());
  return 0;
}

int cmd_rm(const std::vector<std::string>& names, bool force) {
  int code = 0;
  for (const auto& n : names)
    if (remove_one(n, force) != 0) code = kExitHullError;
  return code;
}

}  // namespace hull::cli
