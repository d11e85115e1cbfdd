// The child half of boot(): everything between clone3() and execve() of
// hull-agent, as a straight list of named steps in the order the kernel needs
// them (see STYLE.md "two regimes between fork and exec").
//
// Protocol with the parent (namespace_backend.cc):
//   1. parent prepares a ChildPlan (all strings, the seccomp program) — the
//      child allocates nothing, it only reads the plan and makes syscalls;
//   2. clone3(CLONE_NEWUSER|NEWNS|NEWPID|NEWNET|NEWIPC|NEWUTS) → run_child();
//   3. child waits on ctl_fd; parent writes uid/gid maps, builds the idmapped
//      detached mounts, puts the child in its cgroups, then sends "go" with
//      the mount fds (SCM_RIGHTS);
//   4. child runs the steps; on failure it sends a ChildFailure and _exits;
//      on success execve closes ctl_fd (CLOEXEC) and the parent reads EOF.
#pragma once

#include <linux/filter.h>

#include <cstddef>
#include <cstdint>

#include "policy/sandbox_layout.h"

namespace hull::backend::ns {

enum class Step : int32_t {
  kWaitForGo, kSignals, kMountPrivate, kScratchTmpfs, kSetIds, kUnshareCgroup,
  kScratchDirs, kAttachRootfs, kOverlay, kPivotRoot, kLayout, kWorkspace, kAgentBinary,
  kEtcFiles, kDetachOldRoot, kHostname, kLoopback, kFds, kChdir, kNoNewPrivs, kLandlock,
  kDropCaps, kRlimits, kSeccomp, kExec,
};
const char* step_name(Step s);

struct ChildFailure {
  Step step;
  int32_t err;    // errno
  int32_t index;  // for kLayout: index into ChildPlan::mounts; else -1
};

// One resolved row of policy::sandbox_mounts() (sources already point at the
// old root where they refer to host device nodes).
struct ChildMount {
  policy::MountKind kind;
  const char* target;
  const char* source;
  const char* data;
  unsigned long flags;
};

struct ChildPlan {
  int ctl_fd = -1;      // SOCK_SEQPACKET: "go" + fds in, ChildFailure out
  int channel_fd = -1;  // becomes fd 3 of hull-agent
  bool keep_stderr = false;
  bool has_workspace = false;

  // Host dir; a tmpfs is mounted on it and holds lower/ (idmapped image),
  // upper/, work/ and root/ (the overlay, new "/"), named relative to it.
  const char* scratch = nullptr;
  const char* scratch_opts = nullptr;  // "size=...,mode=0755,uid=0,gid=0"
  const char* overlay_opts = nullptr;  // relative lowerdir/upperdir/workdir

  const ChildMount* mounts = nullptr;
  size_t mount_count = 0;

  const char* hostname = nullptr;
  const char* etc_hostname = nullptr;  // file contents
  const char* etc_hosts = nullptr;
  const char* cwd = nullptr;

  int landlock_abi = 0;  // 0: kernel has none (or the profile has none), step skipped
  uint64_t keep_caps = 0;  // bit per capability the agent keeps (see child_setup.cc)
  uint64_t nofile = 0;
  uint64_t core = 0;
  const sock_filter* seccomp = nullptr;
  unsigned short seccomp_len = 0;

  const char* exec_path = nullptr;
  const char* const* argv = nullptr;
  const char* const* envp = nullptr;
};

// Never returns: execs hull-agent or _exits after reporting a ChildFailure.
[[noreturn]] void run_child(const ChildPlan& plan);

// Child-side helpers (mounts.cc, net.cc, landlock.cc). Each returns 0 or an
// errno and allocates nothing.
int ensure_dir(const char* path);
int ensure_file(const char* path);
int apply_mount(const ChildMount& m);
int attach_detached(int mount_fd, const char* target);
int write_small_file(const char* path, const char* content);
int bring_up_loopback();
// ip_unprivileged_port_start = 53 in the sandbox's netns (net.cc).
int allow_unprivileged_port_53();
int landlock_restrict(int abi);  // landlock.h says what it allows

}  // namespace hull::backend::ns
