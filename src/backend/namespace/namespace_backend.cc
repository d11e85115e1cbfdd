// NamespaceBackend::boot — the parent half. Builds everything the child will
// need (strings, seccomp program, cgroups) before clone3, then does the parts
// only the parent can do (id maps, idmapped mounts, cgroup placement) while
// the child waits, and turns a child failure into a Result naming the step.
#include "backend/namespace/namespace_backend.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "backend/namespace/child_setup.h"
#include "backend/namespace/host_ids.h"
#include "backend/namespace/landlock.h"
#include "backend/namespace/record.h"
#include "backend/namespace/seccomp_filter.h"
#include "backend/namespace/userns.h"
#include "base/paths.h"
#include "base/sys.h"
#include "policy/sandbox_layout.h"

namespace hull::backend {

namespace {

using ns::ChildFailure;
using ns::ChildMount;
using ns::ChildPlan;

constexpr int kSetupTimeoutMs = 30000;

struct CloneArgs {  // struct clone_args, CLONE_ARGS_SIZE_VER0
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

// Kills and reaps the child unless released: every early return after
// clone3 goes through here, so no half-booted sandbox outlives boot().
struct ChildGuard {
  int pidfd = -1;
  ~ChildGuard() {
    if (pidfd < 0) return;
    ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    siginfo_t info{};
    while (::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED) < 0 && errno == EINTR) {
    }
  }
};

// Removes the record and scratch dir when boot() fails (cgroups and the
// child have their own guards, destroyed first).
struct BootCleanup {
  std::string state_dir, scratch;
  bool armed = true;
  ~BootCleanup() {
    if (!armed) return;
    ::unlink(ns::record_path(state_dir).c_str());
    ::rmdir(scratch.c_str());
  }
};

constexpr uint64_t cap_bit(int cap) { return uint64_t{1} << cap; }
// What the agent keeps (child_setup.cc): SETUID/SETGID to start commands as
// the image's user, SETPCAP so each command can drop them first.
constexpr uint64_t kAgentCaps = cap_bit(CAP_SETUID) | cap_bit(CAP_SETGID) | cap_bit(CAP_SETPCAP);
// The package-install profile: what dpkg and maintainer scripts do as root
// (own, chmod, chroot, mount the chroot's /dev), in the sandbox's own user
// namespace: over its own files, mounts and processes, never the host's.
// Root commands keep them (the agent sees SYS_ADMIN and does not drop them).
constexpr uint64_t kPackageInstallCaps =
    kAgentCaps | cap_bit(CAP_CHOWN) | cap_bit(CAP_DAC_OVERRIDE) | cap_bit(CAP_FOWNER) | cap_bit(CAP_FSETID) |
    cap_bit(CAP_KILL) | cap_bit(CAP_SETFCAP) | cap_bit(CAP_SYS_CHROOT) | cap_bit(CAP_SYS_ADMIN);

Status check_spec(const BootSpec& s) {
  if (!paths::valid_sandbox_name(s.name)) return make_error("sandbox name \"" + s.name + "\"", "invalid");
  auto is = [](const std::string& path, mode_t type, const std::string& what) -> Status {
    struct stat st {};
    if (::stat(path.c_str(), &st) < 0) return sys_error(what + " " + path);
    if ((st.st_mode & S_IFMT) != type)
      return sys_error(what + " " + path, type == S_IFDIR ? ENOTDIR : EINVAL);
    return ok_status();
  };
  HULL_TRY(is(s.rootfs, S_IFDIR, "rootfs"));
  HULL_TRY(is(s.agent_path, S_IFREG, "agent"));
  if (!s.workspace.empty()) HULL_TRY(is(s.workspace, S_IFDIR, "workspace"));
  HULL_TRY(is(s.state_dir, S_IFDIR, "state dir"));
  return ok_status();
}

Status send_go(int ctl, const int* fds, int n) {
  char byte = 'g';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char cbuf[CMSG_SPACE(3 * sizeof(int))]{};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = CMSG_SPACE(static_cast<size_t>(n) * sizeof(int));
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(static_cast<size_t>(n) * sizeof(int));
  std::memcpy(CMSG_DATA(c), fds, static_cast<size_t>(n) * sizeof(int));
  if (::sendmsg(ctl, &msg, MSG_NOSIGNAL) < 0) return sys_error("send go to sandbox child");
  return ok_status();
}

const char* hint_for(ns::Step s) {
  switch (s) {
    case ns::Step::kOverlay: return "overlayfs in a user namespace over an idmapped layer needs kernel >= 5.19";
    case ns::Step::kPivotRoot: return "the image rootfs must be a directory tree with / writable by the overlay";
    case ns::Step::kLayout: return "see policy/sandbox_layout.cc for the mount table";
    case ns::Step::kLandlock: return "landlock ABI mismatch; see hull doctor";
    default: return "";
  }
}

// Waits for the child's verdict: EOF = it exec'd the agent.
Status await_child(int ctl, const std::vector<ChildMount>& mounts) {
  pollfd p{ctl, POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, kSetupTimeoutMs);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return make_error("sandbox set-up", "child did not finish within 30 s");
  if (r < 0) return sys_error("poll sandbox set-up");
  ChildFailure f{};
  ssize_t n = ::recv(ctl, &f, sizeof f, 0);
  if (n == 0) return ok_status();
  if (n != static_cast<ssize_t>(sizeof f)) return sys_error("read sandbox set-up result");
  std::string op = ns::step_name(f.step);
  if (f.step == ns::Step::kLayout && f.index >= 0 && static_cast<size_t>(f.index) < mounts.size())
    op += std::string(" ") + mounts[static_cast<size_t>(f.index)].target;
  return sys_error(op, f.err, hint_for(f.step));
}

struct WorkspaceView {
  UniqueFd tree;       // detached idmapped mount, attached at /workspace by the child
  std::string report;  // for hull inspect
};

// The workspace as the sandbox sees it: its owner (on disk) is the sandbox's
// user, and no other sandbox id maps to anything there (userns.h). So every
// file the sandbox creates in it belongs to the owner on the host.
Result<WorkspaceView> workspace_view(const BootSpec& spec, const ns::IdMapping& ids) {
  struct stat st {};
  if (::stat(spec.workspace.c_str(), &st) < 0) return sys_error("stat workspace " + spec.workspace);
  if (spec.user_uid >= ids.count || spec.user_gid >= ids.count)
    return make_error("workspace", "the sandbox user " + std::to_string(spec.user_uid) + ":" +
                                       std::to_string(spec.user_gid) + " is outside the sandbox's id range");
  HULL_ASSIGN(UniqueFd owner_ns, ns::single_id_userns({st.st_uid, ids.host_base + spec.user_uid},
                                                      {st.st_gid, ids.host_base + spec.user_gid}));
  uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (spec.workspace_ro) attrs |= MOUNT_ATTR_RDONLY;
  WorkspaceView v;
  HULL_ASSIGN(v.tree, ns::idmapped_clone(spec.workspace, owner_ns.get(), attrs, true));
  v.report = std::string("/workspace ") + (spec.workspace_ro ? "ro" : "rw") + ", owner " +
             std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid) + " on the host is " +
             std::to_string(spec.user_uid) + ":" + std::to_string(spec.user_gid) +
             " inside; other ids cannot create files there";
  return v;
}

}  // namespace

Result<Booted> NamespaceBackend::boot(const BootSpec& spec) {
  HULL_TRY(check_spec(spec));
  const auto& d = policy::kDefaultLimits;
  ns::CgroupLimits limits{spec.limits.memory_bytes ? spec.limits.memory_bytes : d.memory_bytes,
                          spec.limits.pids ? spec.limits.pids : d.pids, spec.limits.cpus};
  const bool package_install = spec.weaken_for_package_install;
  if (package_install && !spec.workspace.empty() && !spec.workspace_ro)
    return make_error("package-install profile", "refused with a writable workspace (image builds mount their input read-only)");
  HULL_ASSIGN(ns::SeccompProgram seccomp,
              package_install ? ns::compile_package_install_policy() : ns::compile_seccomp_policy());
  // Landlock forbids mount, which the package-install profile needs.
  const int landlock = package_install ? 0 : landlock_abi();
  HULL_ASSIGN(ns::HostIdLease lease, ns::HostIdLease::take());
  const ns::IdMapping ids{lease.base(), lease.count()};

  // Scratch: an empty host directory; the per-sandbox tmpfs is mounted on it
  // only inside the sandbox's mount namespace, so the host never sees it.
  std::string scratch = spec.state_dir + "/ns-scratch";
  if (::mkdir(scratch.c_str(), 0700) < 0 && errno != EEXIST) return sys_error("mkdir " + scratch);
  BootCleanup cleanup{spec.state_dir, scratch};
  HULL_ASSIGN(ns::CgroupSet cgroups, ns::CgroupSet::create(spec.name, limits));
  ns::BackendRecord record{"namespace", 0, 0, cgroups.dirs(), scratch};
  HULL_TRY(ns::write_record(spec.state_dir, record));

  // Everything the child reads, built now: it must not allocate.
  const uint64_t scratch_bytes = spec.limits.disk_bytes ? spec.limits.disk_bytes : d.scratch_bytes;
  std::string scratch_opts = "size=" + std::to_string(scratch_bytes) + ",mode=0755,uid=0,gid=0";
  // Relative to the child's cwd, the scratch tmpfs (see child_setup.cc).
  std::string overlay_opts = "lowerdir=lower,upperdir=upper,workdir=work,userxattr";
  auto table = policy::sandbox_mounts();
  std::vector<std::string> sources;
  sources.reserve(table.size());
  std::vector<ChildMount> mounts;
  for (const auto& m : table) {
    const char* src = m.source;
    if (m.kind == policy::MountKind::kHostDevice || m.kind == policy::MountKind::kMaskWithNull) {
      sources.push_back(std::string("/.oldroot") + (m.source != nullptr ? m.source : "/dev/null"));
      src = sources.back().c_str();
    }
    mounts.push_back(ChildMount{m.kind, m.target, src, m.data, m.flags});
  }
  std::string etc_hostname = spec.name + "\n";
  std::string etc_hosts = "127.0.0.1\tlocalhost\n127.0.1.1\t" + spec.name +
                          "\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  std::string env_host = "HOSTNAME=" + spec.name;
  const char* argv[] = {"hull-agent", "--channel-fd", "3", nullptr};
  const char* envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                        "HOME=/root", env_host.c_str(), "container=hull", nullptr};

  HULL_ASSIGN(sys::FdPair channel, sys::socketpair(SOCK_STREAM | SOCK_CLOEXEC));
  HULL_ASSIGN(sys::FdPair ctl, sys::socketpair(SOCK_SEQPACKET | SOCK_CLOEXEC));

  ChildPlan plan;
  plan.ctl_fd = ctl.second.get();
  plan.channel_fd = channel.second.get();
  // stderr is the supervisor's log file: kept so the agent's diagnostics land
  // there — unless it is a terminal (a sandbox must not get a host tty).
  plan.keep_stderr = ::fcntl(2, F_GETFD) >= 0 && ::isatty(2) == 0;
  plan.has_workspace = !spec.workspace.empty();
  plan.scratch = scratch.c_str();
  plan.scratch_opts = scratch_opts.c_str();
  plan.overlay_opts = overlay_opts.c_str();
  plan.mounts = mounts.data();
  plan.mount_count = mounts.size();
  plan.hostname = spec.name.c_str();
  plan.etc_hostname = etc_hostname.c_str();
  plan.etc_hosts = etc_hosts.c_str();
  plan.cwd = plan.has_workspace ? "/workspace" : "/";
  plan.landlock_abi = landlock;
  plan.keep_caps = package_install ? kPackageInstallCaps : kAgentCaps;
  plan.nofile = d.nofile;
  plan.core = d.core;
  plan.seccomp = seccomp.insns.data();
  plan.seccomp_len = static_cast<unsigned short>(seccomp.insns.size());
  plan.exec_path = "/.hull/hull-agent";
  plan.argv = argv;
  plan.envp = envp;

  int pidfd = -1;
  CloneArgs args{};
  args.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
               CLONE_NEWUTS | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uintptr_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) return sys_error("clone3 (new namespaces)", errno, "is userns enabled? see hull doctor");
  if (pid == 0) ns::run_child(plan);  // never returns

  UniqueFd pidfd_owner(pidfd);
  ChildGuard guard{pidfd};  // destroyed before pidfd_owner closes the fd
  ctl.second.reset();
  channel.second.reset();
  const pid_t child = static_cast<pid_t>(pid);

  HULL_TRY(ns::write_id_maps(child, ids));
  HULL_ASSIGN(UniqueFd userns, ns::open_userns(child));
  HULL_ASSIGN(UniqueFd rootfs_tree, ns::idmapped_clone(spec.rootfs, userns.get(),
                                                       MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, true));
  HULL_ASSIGN(UniqueFd agent_tree,
              ns::idmapped_clone(spec.agent_path, userns.get(),
                                 MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, false));
  UniqueFd ws_tree;
  std::string ws_report = "none";
  if (plan.has_workspace) {
    HULL_ASSIGN(WorkspaceView ws, workspace_view(spec, ids));
    ws_tree = std::move(ws.tree);
    ws_report = std::move(ws.report);
  }
  HULL_TRY(cgroups.add_process(child));
  record.host_pid = child;
  record.start_time = ns::process_start_time(child);
  HULL_TRY(ns::write_record(spec.state_dir, record));

  int fds[3] = {rootfs_tree.get(), agent_tree.get(), ws_tree.get()};
  HULL_TRY(send_go(ctl.first.get(), fds, plan.has_workspace ? 3 : 2));
  HULL_TRY(await_child(ctl.first.get(), mounts));

  std::string v = cgroups.version() == 2 ? " (cgroup v2)" : " (cgroup v1)";
  std::vector<std::pair<std::string, std::string>> report{
      {"tier", tier_name(Tier::kNamespace)},
      {"profile", package_install ? "WEAKENED for package install (image builds only)" : "default"},
      {"userns", "idmapped 0→" + std::to_string(ids.host_base) + " (" +
                     std::to_string(ids.count) + " ids)"},
      {"rootfs", "overlay on idmapped " + spec.rootfs + ", upper on tmpfs " +
                     std::to_string(scratch_bytes >> 20) + " MiB"},
      {"workspace", ws_report},
      {"network", "none (own netns, loopback only)"},
      {"memory", std::to_string(limits.memory_bytes) + v},
      {"pids", std::to_string(limits.pids) + v},
      {"cpu", (limits.cpus > 0 ? std::to_string(limits.cpus) : std::string("unlimited")) + v},
      {"capabilities", package_install ? "package-install profile: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETUID "
                                         "SETGID SETPCAP SETFCAP SYS_CHROOT SYS_ADMIN, in its user namespace"
                                       : "none"},
      {"no_new_privs", "on"},
      {"landlock", package_install ? "off (package-install profile: it forbids mount)"
                   : landlock > 0  ? "abi " + std::to_string(landlock)
                                   : "unavailable"},
      {"seccomp", "on, " + std::to_string(seccomp.rules) + " rules" +
                      (package_install ? " (package-install profile: mount, umount2, chroot and set-id modes allowed)" : "")},
  };
  guard.pidfd = -1;
  cleanup.armed = false;
  Booted booted;
  booted.channel = std::move(channel.first);
  booted.instance = std::make_unique<ns::NamespaceInstance>(
      child, std::move(pidfd_owner), std::move(cgroups), std::move(lease), spec.state_dir, scratch,
      std::move(report));
  return booted;
}

}  // namespace hull::backend
