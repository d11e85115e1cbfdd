// Reading a sandbox from the outside (`hull ls`, `hull inspect`, the CLI
// before it reuses a name): is its supervisor still the one that wrote
// state.json, and if not, clean up after it.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "base/log.h"
#include "base/sys.h"
#include "supervisor/supervisor.h"

namespace hull::supervisor {

namespace {

bool is_final(SandboxStatus s) {
  switch (s) {
    case SandboxStatus::kExited:
    case SandboxStatus::kFailed: return true;
    case SandboxStatus::kCreating:
    case SandboxStatus::kBooting:
    case SandboxStatus::kRunning:
    case SandboxStatus::kStopping: return false;
  }
  return false;
}

// A pid alone can be reused. The supervisor is ours if it runs as
// `hull __supervise`, or (for supervisors started in-process, as the tests
// do) if it holds this sandbox's supervisor.log open.
bool supervisor_alive(pid_t pid, const std::string& dir) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) < 0 && errno == ESRCH) return false;
  std::string proc = "/proc/" + std::to_string(pid);
  if (auto cmd = sys::read_file(proc + "/cmdline", 64 * 1024); cmd) {
    std::string c = *cmd;
    for (char& ch : c)
      if (ch == '\0') ch = ' ';
    if (c.find("__supervise") != std::string::npos) return true;
  }
  std::error_code ec;
  auto log = std::filesystem::weakly_canonical(dir + "/supervisor.log", ec);
  for (const auto& e : std::filesystem::directory_iterator(proc + "/fd", ec)) {
    std::error_code ec2;
    if (std::filesystem::read_symlink(e.path(), ec2) == log && !ec2) return true;
  }
  return false;
}

bool dead(const SandboxState& st, const std::string& dir) {
  // No pid yet ("creating", written by the CLI): nothing to judge by.
  if (is_final(st.status) || st.supervisor_pid <= 0) return false;
  return !supervisor_alive(st.supervisor_pid, dir);
}

}  // namespace

Result<SandboxState> observed_state(const std::string& sandbox_dir) {
  HULL_ASSIGN(SandboxState st, read_state(sandbox_dir));
  if (dead(st, sandbox_dir)) {
    st.status = SandboxStatus::kFailed;
    st.error = "supervisor died";
  }
  return st;
}

Status reap_if_dead(const std::string& sandbox_dir) {
  HULL_ASSIGN(SandboxState st, read_state(sandbox_dir));
  if (!dead(st, sandbox_dir)) return ok_status();
  log::warn("supervisor {} of {} is gone; reaping what it left", st.supervisor_pid, sandbox_dir);
  Status reaped = backend::reap_leftovers(sandbox_dir);
  if (!st.socket.empty()) ::unlink(st.socket.c_str());
  st.status = SandboxStatus::kFailed;
  st.error = "supervisor died";
  st.socket.clear();
  st.finished_at = now_rfc3339();
  HULL_TRY(write_state(sandbox_dir, st));
  return reaped;
}

}  // namespace hull::supervisor
