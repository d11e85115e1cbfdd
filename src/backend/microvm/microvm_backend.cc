#include "backend/microvm/microvm_backend.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "backend/microvm/accel_probe.h"
#include "backend/microvm/console.h"
#include "backend/microvm/guest_artifacts.h"
#include "backend/microvm/qemu_command.h"
#include "backend/microvm/qemu_confinement.h"
#include "backend/namespace/record.h"
#include "base/command.h"
#include "base/sys.h"
#include "image/disk_image.h"
#include "policy/sandbox_layout.h"

namespace hull::backend {

namespace microvm {

std::string console_log_path(const std::string& state_dir) { return state_dir + "/console.log"; }
std::string qemu_log_path(const std::string& state_dir) { return state_dir + "/qemu.log"; }

std::string MicrovmInstance::exit_explanation() const {
  auto v = judge_console_file(console_log_path(state_dir_), kConsoleLogMax);
  if (v && !v->summary.empty()) return v->summary + " (hull logs --console)";
  // Nothing from the guest: then QEMU's own word (its exit and last message).
  std::string why = "no panic or agent message on the guest console";
  siginfo_t info{};
  if (pidfd_ && ::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
      info.si_pid != 0) {
    why += info.si_code == CLD_EXITED ? "; QEMU exited with status " + std::to_string(info.si_status)
                                      : "; QEMU was killed by signal " + std::to_string(info.si_status);
  }
  if (auto q = judge_console_file(qemu_log_path(state_dir_), kConsoleLogMax); q && !q->tail.empty())
    why += ": " + q->tail.back();
  return why;
}

std::string MicrovmInstance::health_problem() const {
  // A guest that filled its console log is flooding it: QEMU's writes now
  // fail, and a guest this loud is broken or hostile either way.
  struct stat st {};
  if (::stat(console_log_path(state_dir_).c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) >= kConsoleLogMax)
    return "guest flooded its console (" + std::to_string(kConsoleLogMax >> 20) + " MiB log cap reached; hull logs --console)";
  return {};
}

Status MicrovmInstance::destroy() {
  if (destroyed_) return ok_status();
  if (pidfd_) {
    ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
    siginfo_t info{};
    int r;
    do r = ::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED);
    while (r < 0 && errno == EINTR);
  }
  if (cgroups_) HULL_TRY(cgroups_->remove());
  if (::unlink(ns::record_path(state_dir_).c_str()) < 0 && errno != ENOENT)
    return sys_error("unlink " + ns::record_path(state_dir_));
  destroyed_ = true;
  return ok_status();
}

namespace {

// Everything the child needs, built before fork: it only calls async-signal-
// safe functions between fork and exec.
struct Exec {
  std::vector<std::string> argv_store;
  std::vector<char*> argv;
  int channel_fd = -1;   // becomes fd 3
  int stdio_fd = -1;     // /dev/null for stdin/stdout
  int stderr_fd = -1;    // qemu.log: QEMU's own messages
  int console_fd = -1;   // becomes fd 4: the console log, opened by us
  int workspace_fd = -1; // becomes fd 5 (O_PATH): the workspace, or -1
  std::vector<std::string> cgroup_procs;  // "<dir>/cgroup.procs" to join before exec
  const QemuConfinement* confinement = nullptr;
  QemuIdentity identity;
  pid_t parent = 0;
};

[[noreturn]] void exec_child(const Exec& e) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // Join QEMU's cgroups before exec ("0" = the writing process), so no
  // instant of QEMU runs outside its limits.
  for (const auto& f : e.cgroup_procs) {
    int fd = ::open(f.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, "0", 1) != 1) ::_exit(125);
    ::close(fd);
  }
  if (e.confinement != nullptr && e.confinement->apply() != 0) ::_exit(125);
  if (apply_identity(e.identity, e.parent) != 0) ::_exit(125);
  // Cap every file QEMU writes (only the console log is opened for writing),
  // and make an over-long write fail instead of killing QEMU.
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit fsize{kConsoleLogMax, kConsoleLogMax};
  ::setrlimit(RLIMIT_FSIZE, &fsize);
  ::dup2(e.stdio_fd, 0);
  ::dup2(e.stdio_fd, 1);
  ::dup2(e.stderr_fd, 2);
  if (::dup2(e.channel_fd, 3) < 0 || ::dup2(e.console_fd, 4) < 0) ::_exit(126);
  if (e.workspace_fd >= 0 && ::dup2(e.workspace_fd, 5) < 0) ::_exit(126);
  ::close_range(e.workspace_fd >= 0 ? 6 : 5, ~0u, 0);
  ::execvp(e.argv[0], e.argv.data());
  ::_exit(127);
}

Result<pid_t> spawn_qemu(Exec& e) {
  for (auto& s : e.argv_store) e.argv.push_back(s.data());
  e.argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork for qemu");
  if (pid == 0) exec_child(e);
  return pid;
}

}  // namespace

}  // namespace microvm

Result<Booted> MicrovmBackend::boot(const BootSpec& spec) {
  using namespace microvm;
  std::string qemu = find_program("qemu-system-x86_64");
  if (qemu.empty())
    return make_error("microvm backend", "qemu-system-x86_64 not found; apt-get install qemu-system-x86");
  HULL_ASSIGN(std::string kernel, find_guest_kernel());
  HULL_ASSIGN(std::string initramfs, ensure_initramfs(spec.agent_path));
  HULL_ASSIGN(std::string disk, image::ensure_rootfs_disk(spec.rootfs, 2));
  if (!spec.workspace.empty() && !sys::exists(spec.workspace))
    return make_error("workspace " + spec.workspace, "does not exist");

  const auto& d = policy::kDefaultLimits;
  VmConfig c;
  c.qemu = qemu;
  const AccelChoice accel = choose_accel(qemu, kernel);  // KVM only if our guest booted under it
  c.accel = accel.accel;
  c.cpus = spec.limits.cpus > 0 ? static_cast<unsigned>(std::ceil(spec.limits.cpus)) : 1;
  c.memory_bytes = spec.limits.memory_bytes ? spec.limits.memory_bytes : (1ull << 30);
  c.kernel = kernel;
  c.initramfs = initramfs;
  c.root_disk = disk;
  c.workspace = spec.workspace;
  c.workspace_ro = spec.workspace_ro;
  c.hostname = spec.name;
  c.overlay_bytes = spec.limits.disk_bytes ? spec.limits.disk_bytes : d.scratch_bytes;
  c.pids_max = spec.limits.pids ? spec.limits.pids : d.pids;
  c.console_log = console_log_path(spec.state_dir);
  // For debugging a guest (e.g. "loglevel=7", or "rdinit=/none" to see a
  // panic reported); the guest is the user's own, so this grants nothing.
  if (const char* extra = std::getenv("HULL_GUEST_CMDLINE_APPEND")) c.cmdline_extra = extra;

  // QEMU's own host cgroups: optional (the VM is the wall), but reported.
  std::optional<ns::CgroupSet> cgroups;
  std::string cgroup_report;
  // QEMU's threads: vCPUs, I/O, RCU, 9p workers. Far below what a runaway
  // would need, far above what a healthy VM uses (~10-20).
  constexpr uint32_t kQemuThreadsMax = 256;
  auto cg = ns::CgroupSet::create(spec.name, {host_memory_budget(c), kQemuThreadsMax, spec.limits.cpus});
  if (cg) {
    cgroups.emplace(std::move(*cg));
    cgroup_report = "cgroup v" + std::to_string(cgroups->version()) + ", memory " +
                    std::to_string(host_memory_budget(c) >> 20) + " MiB, threads " +
                    std::to_string(kQemuThreadsMax) +
                    (spec.limits.cpus > 0 ? ", cpu quota " + std::to_string(spec.limits.cpus) : "");
  } else {
    cgroup_report = "none: " + cg.error().message();
  }

  // The console log and QEMU's own log are opened here and handed over as
  // fds: QEMU may write them, not create files, and its user need not be
  // able to reach the sandbox directory (0700, ours).
  HULL_ASSIGN(UniqueFd console_log, sys::open(c.console_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  HULL_ASSIGN(UniqueFd qemu_log, sys::open(qemu_log_path(spec.state_dir), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  c.console_fd = 4;
  QemuFiles files;
  files.read_only = {c.kernel, c.initramfs, c.root_disk};
  files.workspace = c.workspace;
  files.workspace_ro = c.workspace_ro;
  files.kvm = c.accel == Accel::kKvm;
  HULL_ASSIGN(QemuConfinement confinement, QemuConfinement::build(files));
  // QEMU reaches the workspace through an fd we opened, so its (lesser) user
  // needs no search permission on the directories above it.
  UniqueFd workspace_fd;
  if (!c.workspace.empty()) {
    HULL_ASSIGN(workspace_fd, sys::open(c.workspace, O_PATH | O_DIRECTORY | O_CLOEXEC));
    c.workspace = "/proc/self/fd/5";
  }
  const QemuIdentity identity = choose_qemu_identity(files);

  HULL_ASSIGN(sys::FdPair channel, sys::socketpair(SOCK_STREAM | SOCK_CLOEXEC));
  HULL_ASSIGN(UniqueFd devnull, sys::open("/dev/null", O_RDWR | O_CLOEXEC));
  Exec e;
  e.argv_store = qemu_argv(c);
  e.channel_fd = channel.second.get();
  e.stdio_fd = devnull.get();
  e.stderr_fd = qemu_log.get();
  e.console_fd = console_log.get();
  e.workspace_fd = workspace_fd ? workspace_fd.get() : -1;
  e.confinement = &confinement;
  e.identity = identity;
  e.parent = ::getpid();
  if (cgroups)
    for (const auto& d : cgroups->dirs()) e.cgroup_procs.push_back(d + "/cgroup.procs");
  HULL_ASSIGN(pid_t pid, spawn_qemu(e));
  channel.second.reset();

  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    Error err = sys_error("pidfd_open qemu");
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return err;
  }
  ns::BackendRecord record{"microvm", pid, ns::process_start_time(pid),
                          cgroups ? cgroups->dirs() : std::vector<std::string>{}, ""};
  if (Status st = ns::write_record(spec.state_dir, record); !st) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    ::close(pidfd);
    return st.error();
  }
  const Tier tier = c.accel == Accel::kKvm ? Tier::kMicrovmKvm : Tier::kMicrovmTcg;
  std::vector<std::pair<std::string, std::string>> report = {
      {"kernel", guest_kernel_release(kernel).empty() ? kernel : guest_kernel_release(kernel)},
      {"accel", accel.reason},
      {"cpus", std::to_string(c.cpus)},
      {"memory", std::to_string(c.memory_bytes >> 20) + " MiB (guest RAM)"},
      {"pids", std::to_string(c.pids_max) + " (guest cgroup)"},
      {"rootfs", disk + " (read-only virtio-blk), writable layer: guest tmpfs " +
                     std::to_string(c.overlay_bytes >> 20) + " MiB"},
      {"qemu-host-limits", cgroup_report},
      {"qemu-files", confinement.report()},
      {"qemu-user", identity.report},
      {"console", c.console_log},
  };
  Booted b;
  b.channel = std::move(channel.first);
  b.instance = std::make_unique<MicrovmInstance>(tier, pid, UniqueFd(pidfd), std::move(cgroups), spec.state_dir,
                                                 std::move(report));
  return b;
}

}  // namespace hull::backend
