#include "backend/microvm/microvm_backend.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
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
#include "backend/namespace/seccomp_filter.h"
#include "backend/namespace/userns.h"
#include "base/command.h"
#include "base/sys.h"
#include "image/disk_image.h"
#include "policy/sandbox_layout.h"

namespace hull::backend {

namespace microvm {

std::string console_log_path(const std::string& state_dir) { return state_dir + "/console.log"; }
std::string qemu_log_path(const std::string& state_dir) { return state_dir + "/qemu.log"; }

bool MicrovmInstance::drain_output(int fd) {
  if (fd == console_.fd()) return console_.drain();
  if (fd == qemu_log_.fd()) return qemu_log_.drain();
  return false;
}

std::string MicrovmInstance::exit_explanation() {
  // What QEMU wrote last may still sit in the sockets: take what is there
  // now (one drain reads until the socket is empty or 4 MiB, past the
  // logs' cap). Not until EOF: QEMU may be alive, e.g. frozen and about to
  // be stopped as hung.
  (void)console_.drain();
  (void)qemu_log_.drain();
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
  // A guest that wrote past the console log's cap is flooding it; a guest
  // this loud is broken or hostile either way. So is one that makes QEMU
  // itself complain a megabyte's worth.
  if (console_.overflowed())
    return "guest flooded its console (" + std::to_string(kConsoleLogMax >> 20) + " MiB log cap reached; hull logs --console)";
  if (qemu_log_.overflowed())
    return "QEMU's own log passed its " + std::to_string(kConsoleLogMax >> 20) + " MiB cap (the guest is driving a device wrong)";
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
  ids_ = ns::HostIdLease();  // QEMU is gone: its uid may serve another sandbox
  if (cgroups_) HULL_TRY(cgroups_->remove());
  if (::unlink(ns::record_path(state_dir_).c_str()) < 0 && errno != ENOENT)
    return sys_error("unlink " + ns::record_path(state_dir_));
  destroyed_ = true;
  return ok_status();
}

namespace {

// QEMU's fds, as it finds them after exec.
constexpr int kChannelFd = 3;    // the agent channel (virtio-serial)
constexpr int kConsoleFd = 4;    // the guest console (isa-serial), a socket we drain
constexpr int kDiskFd = 5;       // the root disk, read-only
constexpr int kWorkspaceFd = 6;  // the workspace's idmapped mount (9p), if any

// Everything the child needs, built before fork: it only calls async-signal-
// safe functions between fork and exec.
struct Exec {
  std::vector<std::string> argv_store;
  std::vector<char*> argv;
  int channel_fd = -1;   // becomes kChannelFd
  int stdio_fd = -1;     // /dev/null for stdin/stdout
  int stderr_fd = -1;    // QEMU's own messages: a pipe we drain into qemu.log
  int console_fd = -1;   // becomes kConsoleFd
  int disk_fd = -1;      // becomes kDiskFd
  int workspace_fd = -1; // becomes kWorkspaceFd, or -1
  std::vector<std::string> cgroup_procs;  // "<dir>/cgroup.procs" to join before exec
  const QemuConfinement* confinement = nullptr;
  const QemuIdentity* identity = nullptr;
  const ns::SeccompProgram* seccomp = nullptr;  // the set-id rows, under QEMU's own -sandbox
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
  if (apply_identity(*e.identity, e.parent) != 0) ::_exit(125);
  if (e.confinement != nullptr && e.confinement->apply() != 0) ::_exit(125);
  // no_new_privs is set (apply() above, or here when Landlock is missing).
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(125);
  if (ns::install_seccomp_program(*e.seccomp) != 0) ::_exit(125);
  ::dup2(e.stdio_fd, 0);
  ::dup2(e.stdio_fd, 1);
  ::dup2(e.stderr_fd, 2);
  // Up high first, so that no dup2 below overwrites a source still needed.
  int hi[4] = {-1, -1, -1, -1};
  const int src[4] = {e.channel_fd, e.console_fd, e.disk_fd, e.workspace_fd};
  for (int i = 0; i < 4; ++i)
    if (src[i] >= 0 && (hi[i] = ::fcntl(src[i], F_DUPFD, 100)) < 0) ::_exit(126);
  for (int i = 0; i < 4; ++i)
    if (hi[i] >= 0 && ::dup2(hi[i], kChannelFd + i) < 0) ::_exit(126);
  ::close_range(e.workspace_fd >= 0 ? kWorkspaceFd + 1 : kWorkspaceFd, ~0u, 0);
  ::execvp(e.argv[0], e.argv.data());
  ::_exit(127);
}

struct WorkspaceFd {
  UniqueFd fd;
  std::string report;
};

// The workspace for QEMU's 9p: as root, a detached idmapped mount in which
// the workspace's owner is QEMU's leased uid (and nobody else is anyone), so
// QEMU acts on it as its owner and every file it creates there belongs to
// that owner on the host (userns.h). Otherwise the directory itself.
Result<WorkspaceFd> open_workspace(const BootSpec& spec, const QemuIdentity& id) {
  WorkspaceFd ws;
  if (!id.change) {
    HULL_ASSIGN(ws.fd, sys::open(spec.workspace, O_PATH | O_DIRECTORY | O_CLOEXEC));
    ws.report = std::string("/workspace ") + (spec.workspace_ro ? "ro" : "rw") + " (9p as hull's user)";
    return ws;
  }
  struct stat st {};
  if (::stat(spec.workspace.c_str(), &st) < 0) return sys_error("stat workspace " + spec.workspace);
  HULL_ASSIGN(UniqueFd owner_ns, ns::single_id_userns({st.st_uid, id.host_id}, {st.st_gid, id.host_id}));
  uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (spec.workspace_ro) attrs |= MOUNT_ATTR_RDONLY;
  HULL_ASSIGN(ws.fd, ns::idmapped_clone(spec.workspace, owner_ns.get(), attrs, true));
  ws.report = std::string("/workspace ") + (spec.workspace_ro ? "ro" : "rw") + " (9p), owner " +
              std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid) + " on the host is " +
              std::to_string(id.inside_uid) + ":" + std::to_string(id.inside_gid) + " in the guest";
  return ws;
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

  // The console and QEMU's stderr go into sockets/pipes we drain into
  // capped logs (PipedLog): QEMU creates and writes no file of its own.
  HULL_ASSIGN(UniqueFd console_file, sys::open(c.console_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  HULL_ASSIGN(UniqueFd qemu_file, sys::open(qemu_log_path(spec.state_dir), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  HULL_ASSIGN(sys::FdPair console, sys::socketpair(SOCK_STREAM | SOCK_CLOEXEC));
  HULL_ASSIGN(sys::FdPair qemu_err, sys::pipe(O_CLOEXEC));
  HULL_TRY(sys::set_nonblock(console.first.get(), true));
  HULL_TRY(sys::set_nonblock(qemu_err.first.get(), true));
  c.console_fd = kConsoleFd;
  // The disk cache is root's and closed (0700/0600): QEMU gets the disk open.
  HULL_ASSIGN(UniqueFd disk_fd, sys::open(disk, O_RDONLY | O_CLOEXEC));
  c.root_disk_fd = kDiskFd;
  QemuFiles files;
  files.read_only = {c.kernel, c.initramfs};
  files.workspace = c.workspace;
  files.workspace_ro = c.workspace_ro;
  files.kvm = c.accel == Accel::kKvm;
  HULL_ASSIGN(QemuConfinement confinement, QemuConfinement::build(files));
  HULL_ASSIGN(ns::SeccompProgram seccomp, ns::compile_setid_policy());
  ns::HostIdLease ids;
  if (::geteuid() == 0) {
    HULL_ASSIGN(ids, ns::HostIdLease::take());
  }
  HULL_ASSIGN(QemuIdentity identity, make_qemu_identity(files, ids.base(), spec.user_uid, spec.user_gid));
  // QEMU reaches the workspace through an fd we opened, so its user needs
  // no search permission on the directories above it; as root, that fd is
  // an idmapped mount that makes QEMU's uid the workspace's owner.
  UniqueFd workspace_fd;
  std::string workspace_report = "none";
  if (!c.workspace.empty()) {
    HULL_ASSIGN(WorkspaceFd ws, open_workspace(spec, identity));
    workspace_fd = std::move(ws.fd);
    workspace_report = std::move(ws.report);
    c.workspace = "/proc/self/fd/" + std::to_string(kWorkspaceFd);
  }

  HULL_ASSIGN(sys::FdPair channel, sys::socketpair(SOCK_STREAM | SOCK_CLOEXEC));
  HULL_ASSIGN(UniqueFd devnull, sys::open("/dev/null", O_RDWR | O_CLOEXEC));
  Exec e;
  e.argv_store = qemu_argv(c);
  e.channel_fd = channel.second.get();
  e.stdio_fd = devnull.get();
  e.stderr_fd = qemu_err.second.get();
  e.console_fd = console.second.get();
  e.disk_fd = disk_fd.get();
  e.workspace_fd = workspace_fd ? workspace_fd.get() : -1;
  e.confinement = &confinement;
  e.identity = &identity;
  e.seccomp = &seccomp;
  e.parent = ::getpid();
  if (cgroups)
    for (const auto& d : cgroups->dirs()) e.cgroup_procs.push_back(d + "/cgroup.procs");
  HULL_ASSIGN(pid_t pid, spawn_qemu(e));
  channel.second.reset();
  console.second.reset();
  qemu_err.second.reset();

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
      {"qemu-seccomp", "its own -sandbox, and hull's " + std::to_string(seccomp.rules) + " set-id rules"},
      {"workspace", workspace_report},
      {"console", c.console_log},
  };
  Booted b;
  b.channel = std::move(channel.first);
  b.instance = std::make_unique<MicrovmInstance>(
      tier, pid, UniqueFd(pidfd), std::move(cgroups), std::move(ids),
      PipedLog(std::move(console.first), std::move(console_file), kConsoleLogMax),
      PipedLog(std::move(qemu_err.first), std::move(qemu_file), kConsoleLogMax), spec.state_dir,
      std::move(report));
  return b;
}

}  // namespace hull::backend
