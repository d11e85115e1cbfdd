// NamespaceInstance::destroy: kill, reap, remove cgroups, scratch and record.
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "backend/namespace/namespace_backend.h"
#include "backend/namespace/record.h"

namespace hull::backend::ns {

Status NamespaceInstance::destroy() {
  if (destroyed_) return ok_status();
  if (pidfd_) {
    // SIGKILL to pid 1 of the pid namespace: the kernel kills every other
    // process in it, and pid 1 is reapable only once they are all gone.
    ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
    siginfo_t info{};
    int r;
    do {
      r = ::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED);
    } while (r < 0 && errno == EINTR);
    // ECHILD: somebody already reaped it (fine).
  }
  ids_ = HostIdLease();  // nothing runs as these ids any more: another sandbox may have them
  Status result = cgroups_.remove();
  if (result && !scratch_.empty() && ::rmdir(scratch_.c_str()) < 0 && errno != ENOENT)
    result = sys_error("rmdir " + scratch_);
  if (result && ::unlink(record_path(state_dir_).c_str()) < 0 && errno != ENOENT)
    result = sys_error("unlink " + record_path(state_dir_));
  if (result) destroyed_ = true;
  return result;
}

}  // namespace hull::backend::ns
