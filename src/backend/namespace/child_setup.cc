// The child set-up pipeline. Rules for this file: no allocation, no locks, no
// C++ objects with destructors, no logging — only syscalls and reading the
// plan. Each step either succeeds or reports {step, errno} and _exits.
#include "backend/namespace/child_setup.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hull::backend::ns {

const char* step_name(Step s) {
  switch (s) {
    case Step::kWaitForGo: return "wait for parent";
    case Step::kSignals: return "reset signals";
    case Step::kSetIds: return "setresuid/setresgid 0";
    case Step::kUnshareCgroup: return "unshare cgroup namespace";
    case Step::kMountPrivate: return "make mounts private";
    case Step::kScratchTmpfs: return "mount scratch tmpfs";
    case Step::kScratchDirs: return "create scratch dirs";
    case Step::kAttachRootfs: return "attach idmapped rootfs";
    case Step::kOverlay: return "mount overlay";
    case Step::kPivotRoot: return "pivot_root";
    case Step::kLayout: return "sandbox layout";
    case Step::kWorkspace: return "attach workspace";
    case Step::kAgentBinary: return "attach agent binary";
    case Step::kEtcFiles: return "write /etc/hostname and /etc/hosts";
    case Step::kDetachOldRoot: return "detach old root";
    case Step::kHostname: return "sethostname";
    case Step::kLoopback: return "bring up loopback";
    case Step::kFds: return "arrange fds";
    case Step::kChdir: return "chdir";
    case Step::kNoNewPrivs: return "no_new_privs";
    case Step::kLandlock: return "landlock";
    case Step::kDropCaps: return "drop capabilities";
    case Step::kRlimits: return "setrlimit";
    case Step::kSeccomp: return "seccomp";
    case Step::kExec: return "execve hull-agent";
  }
  return "unknown step";
}

namespace {

[[noreturn]] void fail(int ctl, Step step, int err, int index = -1) {
  ChildFailure f{step, err, index};
  // Best effort: if the parent is gone there is nobody to tell.
  (void)::send(ctl, &f, sizeof f, MSG_NOSIGNAL);
  ::_exit(127);
}

// Receives the parent's "go" and the detached mount fds. Returns the number
// of fds, 0 on EOF (parent gone), -1 on error.
int wait_for_go(int ctl, int fds[3]) {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char cbuf[CMSG_SPACE(3 * sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  ssize_t n;
  do {
    n = ::recvmsg(ctl, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return static_cast<int>(n);
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (c == nullptr || c->cmsg_type != SCM_RIGHTS) return 0;
  int count = static_cast<int>((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
  std::memcpy(fds, CMSG_DATA(c), static_cast<size_t>(count) * sizeof(int));
  return count;
}

int reset_signals() {
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) < 0) return errno;
  // Ignored signals survive execve; the agent must start from defaults.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    (void)::sigaction(s, &dfl, nullptr);  // EINVAL for the libc-reserved ones
  }
  return 0;
}

int arrange_fds(const ChildPlan& p, int* ctl) {
  // Move everything out of the 0..3 range first, then build 0,1,2,3.
  int hi_ctl = ::fcntl(*ctl, F_DUPFD_CLOEXEC, 10);
  int hi_chan = ::fcntl(p.channel_fd, F_DUPFD_CLOEXEC, 10);
  if (hi_ctl < 0 || hi_chan < 0) return errno;
  *ctl = hi_ctl;
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) return errno;
  if (::dup2(null_fd, 0) < 0 || ::dup2(null_fd, 1) < 0) return errno;
  if (!p.keep_stderr && ::dup2(null_fd, 2) < 0) return errno;
  if (::dup2(hi_chan, 3) < 0) return errno;  // dup2 clears CLOEXEC on fd 3
  // Everything else (leaked host fds included) closes at exec.
  if (::syscall(SYS_close_range, 4u, ~0u, CLOSE_RANGE_CLOEXEC) < 0) return errno;
  return 0;
}

// The capabilities the agent keeps (ChildPlan::keep_caps; in the sandbox's
// user namespace only). Normally three: CAP_SETUID and CAP_SETGID so it can
// start commands as the image's user (hull run --user), and CAP_SETPCAP so
// each command it starts can drop all three from its bounding set first
// (agent/spawn.cc): no command ever holds a capability. Everything else
// goes. (The package-install profile keeps more; namespace_backend.cc.)
int drop_capabilities(uint64_t keep) {
  for (int cap = 0; cap <= 63; ++cap) {
    if ((keep >> cap) & 1) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno == EINVAL) break;  // past the kernel's last capability
      return errno;
    }
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) return errno;
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};  // inheritable stays empty
  for (int cap = 0; cap <= 63; ++cap) {
    if (((keep >> cap) & 1) == 0) continue;
    // exec as uid 0 under no_new_privs keeps at most what is permitted now.
    data[cap / 32].permitted |= 1u << (cap % 32);
    data[cap / 32].effective |= 1u << (cap % 32);
  }
  if (::syscall(SYS_capset, &hdr, data) < 0) return errno;
  return 0;
}

int set_rlimits(const ChildPlan& p) {
  rlimit core{p.core, p.core};
  if (::setrlimit(RLIMIT_CORE, &core) < 0) return errno;
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) < 0) return errno;
  // Raising the hard limit needs CAP_SYS_RESOURCE in the host userns.
  rlim_t want = p.nofile < nofile.rlim_max ? p.nofile : nofile.rlim_max;
  nofile = {want, want};
  if (::setrlimit(RLIMIT_NOFILE, &nofile) < 0) return errno;
  return 0;
}

int install_seccomp(const ChildPlan& p) {
  sock_fprog prog{p.seccomp_len, const_cast<sock_filter*>(p.seccomp)};
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) return errno;
  return 0;
}

}  // namespace

#define HULL_STEP(step, expr)               \
  do {                                      \
    int hull_e_ = (expr);                   \
    if (hull_e_ != 0) fail(ctl, step, hull_e_); \
  } while (0)
#define HULL_SYS(step, call) HULL_STEP(step, (call) < 0 ? errno : 0)

bool parent_gone(int ctl) {
  pollfd pfd{ctl, POLLIN, 0};
  return ::poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR)) != 0;
}

void run_child(const ChildPlan& p) {
  int ctl = p.ctl_fd;
  // Die with the supervisor (its thread that called boot(), strictly).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  int fds[3] = {-1, -1, -1};
  int got = wait_for_go(ctl, fds);
  if (got == 0) ::_exit(126);  // parent gone or aborted the boot
  int want = p.has_workspace ? 3 : 2;
  if (got != want) fail(ctl, Step::kWaitForGo, got < 0 ? errno : EPROTO);
  const int rootfs_fd = fds[0];
  const int agent_fd = fds[1];
  const int workspace_fd = fds[2];

  HULL_STEP(Step::kSignals, reset_signals());
  // Scratch tmpfs first, while our creds are still host uid 0 and can walk
  // the supervisor's 0700 state dir; uid=0/gid=0 are read in our userns, so
  // the tmpfs root belongs to sandbox root. From here on, paths are relative
  // to it (sandbox root cannot walk the state dir).
  HULL_SYS(Step::kMountPrivate, ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr));
  HULL_SYS(Step::kScratchTmpfs, ::mount("tmpfs", p.scratch, "tmpfs", MS_NOSUID | MS_NODEV,
                                        p.scratch_opts));
  HULL_SYS(Step::kScratchTmpfs, ::chdir(p.scratch));
  // The parent has written our uid/gid maps; become the namespace's root.
  HULL_SYS(Step::kSetIds, ::setresgid(0, 0, 0));
  HULL_SYS(Step::kSetIds, ::setgroups(0, nullptr));
  HULL_SYS(Step::kSetIds, ::setresuid(0, 0, 0));
  // Changing our (host) uid cleared the parent-death signal: arm it again,
  // then make sure the parent did not die in between (the control socket
  // hangs up when it does; getppid() is 0 across the pid namespace).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (parent_gone(ctl)) ::_exit(126);
  // After the parent moved us into our cgroups, so they become our root.
  HULL_SYS(Step::kUnshareCgroup, ::unshare(CLONE_NEWCGROUP));
  HULL_STEP(Step::kLoopback, allow_unprivileged_port_53());

  // Overlay: idmapped image below, upper layer on the scratch tmpfs.
  HULL_STEP(Step::kScratchDirs, ensure_dir("lower"));
  HULL_STEP(Step::kScratchDirs, ensure_dir("upper"));
  HULL_STEP(Step::kScratchDirs, ensure_dir("work"));
  HULL_STEP(Step::kScratchDirs, ensure_dir("root"));
  HULL_STEP(Step::kAttachRootfs, attach_detached(rootfs_fd, "lower"));
  HULL_SYS(Step::kOverlay, ::mount("overlay", "root", "overlay", MS_NOSUID | MS_NODEV,
                                   p.overlay_opts));
  HULL_SYS(Step::kPivotRoot, ::chdir("root"));
  HULL_STEP(Step::kPivotRoot, ensure_dir(".oldroot"));
  HULL_SYS(Step::kPivotRoot, ::syscall(SYS_pivot_root, ".", ".oldroot"));
  HULL_SYS(Step::kPivotRoot, ::chdir("/"));

  // Everything below is inside the new root; the old one is still reachable
  // at /.oldroot for the host device nodes and for procfs' visibility check.
  for (size_t i = 0; i < p.mount_count; ++i) {
    int e = apply_mount(p.mounts[i]);
    if (e != 0) fail(ctl, Step::kLayout, e, static_cast<int>(i));
  }
  if (p.has_workspace) {
    HULL_STEP(Step::kWorkspace, ensure_dir("/workspace"));
    HULL_STEP(Step::kWorkspace, attach_detached(workspace_fd, "/workspace"));
  }
  HULL_STEP(Step::kAgentBinary, ensure_dir("/.hull"));
  HULL_STEP(Step::kAgentBinary, ensure_file("/.hull/hull-agent"));
  HULL_STEP(Step::kAgentBinary, attach_detached(agent_fd, "/.hull/hull-agent"));
  HULL_STEP(Step::kEtcFiles, ensure_dir("/etc"));  // a one-binary image may have none
  HULL_STEP(Step::kEtcFiles, write_small_file("/etc/hostname", p.etc_hostname));
  HULL_STEP(Step::kEtcFiles, write_small_file("/etc/hosts", p.etc_hosts));
  HULL_SYS(Step::kDetachOldRoot, ::umount2("/.oldroot", MNT_DETACH));
  HULL_SYS(Step::kDetachOldRoot, ::rmdir("/.oldroot"));

  HULL_SYS(Step::kHostname, ::sethostname(p.hostname, std::strlen(p.hostname)));
  HULL_STEP(Step::kLoopback, bring_up_loopback());
  HULL_STEP(Step::kFds, arrange_fds(p, &ctl));
  HULL_SYS(Step::kChdir, ::chdir(p.cwd));

  // Hardening, in the order the kernel needs: no_new_privs first (landlock
  // and seccomp require it without CAP_SYS_ADMIN), capabilities dropped
  // before seccomp denies capset-adjacent calls, seccomp last.
  HULL_SYS(Step::kNoNewPrivs, ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
  if (p.landlock_abi > 0) HULL_STEP(Step::kLandlock, landlock_restrict(p.landlock_abi));
  HULL_STEP(Step::kDropCaps, drop_capabilities(p.keep_caps));
  HULL_STEP(Step::kRlimits, set_rlimits(p));
  HULL_STEP(Step::kSeccomp, install_seccomp(p));

  ::execve(p.exec_path, const_cast<char* const*>(p.argv), const_cast<char* const*>(p.envp));
  fail(ctl, Step::kExec, errno);
}

}  // namespace hull::backend::ns
