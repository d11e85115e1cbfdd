#include "policy/seccomp_table.h"

#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdio>
#include <string_view>

namespace hull::policy {

namespace {

using A = SeccompAction;
constexpr SeccompArgMatch kAny{};
constexpr SeccompArgMatch flag0(uint64_t f) { return {0, f, f, false}; }
constexpr SeccompArgMatch bit(unsigned arg, uint64_t b) { return {arg, b, b, false}; }
constexpr SeccompArgMatch equals(unsigned arg, uint64_t v) { return {arg, 0xffffffffu, v, false}; }

// clang-format off
constexpr SeccompEntry kTable[] = {
  // --- kernel modules, kexec, BPF, perf: direct kernel attack surface -------
  {"init_module",       A::kErrno, EPERM, kAny, "loading kernel code is never a sandbox's business"},
  {"finit_module",      A::kErrno, EPERM, kAny, "loading kernel code is never a sandbox's business"},
  {"delete_module",     A::kErrno, EPERM, kAny, "unloading kernel code is never a sandbox's business"},
  {"kexec_load",        A::kErrno, EPERM, kAny, "replaces the running kernel"},
  {"kexec_file_load",   A::kErrno, EPERM, kAny, "replaces the running kernel"},
  {"bpf",               A::kErrno, EPERM, kAny, "eBPF verifier/JIT is a large, frequently exploited surface"},
  {"perf_event_open",   A::kErrno, EPERM, kAny, "perf leaks kernel addresses and has a long CVE history"},
  {"io_uring_setup",    A::kErrno, EPERM, kAny, "io_uring ops bypass this filter and are a frequent exploit path"},
  {"io_uring_enter",    A::kErrno, EPERM, kAny, "io_uring ops bypass this filter and are a frequent exploit path"},
  {"io_uring_register", A::kErrno, EPERM, kAny, "io_uring ops bypass this filter and are a frequent exploit path"},
  {"userfaultfd",       A::kErrno, EPERM, kAny, "lets a process stall kernel copies at will: race-exploit primitive"},
  // --- kernel keyring: not namespaced, keyed by host uid --------------------
  {"add_key",           A::kErrno, EPERM, kAny, "kernel keyrings are not namespaced and are shared per host uid"},
  {"request_key",       A::kErrno, EPERM, kAny, "kernel keyrings are not namespaced and are shared per host uid"},
  {"keyctl",            A::kErrno, EPERM, kAny, "kernel keyrings are not namespaced and are shared per host uid"},
  // --- mount table: the backend built it; the sandbox may not rearrange it --
  {"mount",             A::kErrno, EPERM, kAny, "the mount table is fixed by the backend (would undo read-only binds)"},
  {"umount2",           A::kErrno, EPERM, kAny, "unmounting could reveal what the backend mounted over"},
  {"pivot_root",        A::kErrno, EPERM, kAny, "the root is fixed by the backend"},
  {"chroot",            A::kErrno, EPERM, kAny, "the root is fixed by the backend; chroot games aid escapes"},
  {"move_mount",        A::kErrno, EPERM, kAny, "new mount API: same reason as mount"},
  {"open_tree",         A::kErrno, EPERM, kAny, "new mount API: same reason as mount"},
  {"fsopen",            A::kErrno, EPERM, kAny, "new mount API: same reason as mount"},
  {"fsmount",           A::kErrno, EPERM, kAny, "new mount API: same reason as mount"},
  {"fspick",            A::kErrno, EPERM, kAny, "new mount API: reconfigures existing superblocks"},
  {"fsconfig",          A::kErrno, EPERM, kAny, "new mount API: same reason as mount"},
  {"mount_setattr",     A::kErrno, EPERM, kAny, "would clear read-only/idmap attributes set by the backend"},
  {"swapon",            A::kErrno, EPERM, kAny, "host memory management"},
  {"swapoff",           A::kErrno, EPERM, kAny, "host memory management"},
  {"quotactl",          A::kErrno, EPERM, kAny, "host filesystem quotas"},
  // --- namespaces: no nesting, no joining -----------------------------------
  {"setns",             A::kErrno, EPERM, kAny, "joining namespaces is how container escapes usually finish"},
  {"unshare",           A::kErrno, EPERM, kAny, "nested user namespaces re-grant capabilities over new kernel surface"},
  {"clone",             A::kErrno, EPERM, flag0(CLONE_NEWUSER),   "nested user namespace: re-grants capabilities"},
  {"clone",             A::kErrno, EPERM, flag0(CLONE_NEWNS),     "new mount namespace: needs mount, which is denied"},
  {"clone",             A::kErrno, EPERM, flag0(CLONE_NEWPID),    "nested pid namespace: not needed inside"},
  {"clone",             A::kErrno, EPERM, flag0(CLONE_NEWNET),    "new network namespace: network stack surface"},
  {"clone",             A::kErrno, EPERM, flag0(CLONE_NEWIPC),    "nested ipc namespace: not needed inside"},
  {"clone",             A::kErrno, EPERM, flag0(CLONE_NEWUTS),    "nested uts namespace: not needed inside"},
  {"clone",             A::kErrno, EPERM, flag0(CLONE_NEWCGROUP), "nested cgroup namespace: not needed inside"},
  {"clone3",            A::kErrno, ENOSYS, kAny, "flags live in memory where seccomp cannot look; ENOSYS makes libc fall back to clone"},
  // --- other processes and file handles -------------------------------------
  {"ptrace",            A::kErrno, EPERM, kAny, "debuggers are opt-in: ptrace rewrites any same-uid process and was a seccomp bypass"},
  {"process_vm_readv",  A::kErrno, EPERM, kAny, "reads another process's memory (ptrace without the ptrace)"},
  {"process_vm_writev", A::kErrno, EPERM, kAny, "writes another process's memory (ptrace without the ptrace)"},
  {"kcmp",              A::kErrno, EPERM, kAny, "compares kernel pointers of other processes: info leak"},
  {"open_by_handle_at", A::kErrno, EPERM, kAny, "opens files by handle, bypassing the path walk (shocker escape)"},
  {"name_to_handle_at", A::kErrno, EPERM, kAny, "produces the handles open_by_handle_at consumes"},
  {"lookup_dcookie",    A::kErrno, EPERM, kAny, "profiling interface that resolves kernel dentry cookies"},
  {"pidfd_getfd",       A::kErrno, EPERM, kAny, "copies an open file out of another process (ptrace without the ptrace)"},
  {"move_pages",        A::kErrno, EPERM, kAny, "moves another process's pages between NUMA nodes; Docker refuses it too"},
  {"migrate_pages",     A::kErrno, EPERM, kAny, "moves another process's pages between NUMA nodes; Docker refuses it too"},
  {"mbind",             A::kErrno, EPERM, kAny, "NUMA placement is the host's (Docker refuses it without CAP_SYS_NICE)"},
  {"set_mempolicy",     A::kErrno, EPERM, kAny, "NUMA placement is the host's (Docker refuses it without CAP_SYS_NICE)"},
  {"set_mempolicy_home_node", A::kErrno, EPERM, kAny, "NUMA placement is the host's"},
  {"modify_ldt",        A::kErrno, EPERM, kAny, "16-bit segments: nothing modern needs them, several CVEs did"},
  {"quotactl_fd",       A::kErrno, EPERM, kAny, "host filesystem quotas (same as quotactl)"},
  {"socket",            A::kErrno, EAFNOSUPPORT, equals(0, AF_VSOCK), "vsock talks to the hypervisor host, not to the sandbox's network"},
  // --- host-wide state ------------------------------------------------------
  {"reboot",            A::kErrno, EPERM, kAny, "host power state"},
  {"syslog",            A::kErrno, EPERM, kAny, "kernel log leaks addresses and other tenants' messages"},
  {"acct",              A::kErrno, EPERM, kAny, "host process accounting"},
  {"settimeofday",      A::kErrno, EPERM, kAny, "the clock is host-wide (no time namespace here)"},
  {"clock_settime",     A::kErrno, EPERM, kAny, "the clock is host-wide (no time namespace here)"},
  {"clock_adjtime",     A::kErrno, EPERM, kAny, "the clock is host-wide (no time namespace here)"},
  {"adjtimex",          A::kErrno, EPERM, kAny, "the clock is host-wide (no time namespace here)"},
  {"iopl",              A::kErrno, EPERM, kAny, "raw I/O port access"},
  {"ioperm",            A::kErrno, EPERM, kAny, "raw I/O port access"},
  {"vhangup",           A::kErrno, EPERM, kAny, "hangs up the controlling terminal"},
  {"personality",       A::kErrno, EPERM, {0, 0, 0, true}, "only PER_LINUX (0): other personas weaken ASLR/NX (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE)"},
  // --- terminals ------------------------------------------------------------
  {"ioctl",             A::kErrno, EPERM, {1, 0xffffffffu, TIOCSTI, false}, "TIOCSTI injects keystrokes into a terminal"},
  {"ioctl",             A::kErrno, EPERM, {1, 0xffffffffu, TIOCLINUX, false}, "TIOCLINUX can paste console selections"},
};

// Both backends, and QEMU on the host: no file of the sandbox's making ever
// has a setuid or setgid bit. The workspace is the host user's directory; a
// set-id file there runs with its owner's rights for whoever on the host
// executes it. Refused at the syscall (EPERM) rather than stripped later,
// which would race. Seccomp sees only registers, so the mode argument of
// every call that sets one is checked; openat2 keeps its mode in memory,
// so it is refused as "not implemented" and callers fall back to openat.
constexpr SeccompEntry kSetIdTable[] = {
  {"chmod",      A::kErrno, EPERM, bit(1, S_ISUID), "setuid file: runs as its owner for anyone on the host"},
  {"chmod",      A::kErrno, EPERM, bit(1, S_ISGID), "setgid file: runs as its group for anyone on the host"},
  {"fchmod",     A::kErrno, EPERM, bit(1, S_ISUID), "setuid file: runs as its owner for anyone on the host"},
  {"fchmod",     A::kErrno, EPERM, bit(1, S_ISGID), "setgid file: runs as its group for anyone on the host"},
  {"fchmodat",   A::kErrno, EPERM, bit(2, S_ISUID), "setuid file: runs as its owner for anyone on the host"},
  {"fchmodat",   A::kErrno, EPERM, bit(2, S_ISGID), "setgid file: runs as its group for anyone on the host"},
  {"fchmodat2",  A::kErrno, EPERM, bit(2, S_ISUID), "setuid file: runs as its owner for anyone on the host"},
  {"fchmodat2",  A::kErrno, EPERM, bit(2, S_ISGID), "setgid file: runs as its group for anyone on the host"},
  {"open",       A::kErrno, EPERM, bit(2, S_ISUID), "creating a setuid file"},
  {"open",       A::kErrno, EPERM, bit(2, S_ISGID), "creating a setgid file"},
  {"openat",     A::kErrno, EPERM, bit(3, S_ISUID), "creating a setuid file"},
  {"openat",     A::kErrno, EPERM, bit(3, S_ISGID), "creating a setgid file"},
  {"creat",      A::kErrno, EPERM, bit(1, S_ISUID), "creating a setuid file"},
  {"creat",      A::kErrno, EPERM, bit(1, S_ISGID), "creating a setgid file"},
  {"mknod",      A::kErrno, EPERM, bit(1, S_ISUID), "mknod makes regular files too: a setuid one"},
  {"mknod",      A::kErrno, EPERM, bit(1, S_ISGID), "mknod makes regular files too: a setgid one"},
  {"mknodat",    A::kErrno, EPERM, bit(2, S_ISUID), "mknod makes regular files too: a setuid one"},
  {"mknodat",    A::kErrno, EPERM, bit(2, S_ISGID), "mknod makes regular files too: a setgid one"},
  {"openat2",    A::kErrno, ENOSYS, kAny, "its mode is in memory where seccomp cannot look; ENOSYS makes callers fall back to openat"},
};
constexpr SeccompAllowance kPackageInstallAllows[] = {
  {"mount",   "bind-mounts /dev's nodes and a devpts into the chroot being built"},
  {"umount2", "takes those mounts down again"},
  {"chroot",  "package maintainer scripts run chrooted in the image being built"},
};
// clang-format on

const char* errno_text(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    default: return "errno";
  }
}

}  // namespace

std::span<const SeccompEntry> seccomp_table() { return kTable; }
std::span<const SeccompEntry> setid_seccomp_table() { return kSetIdTable; }
std::span<const SeccompAllowance> package_install_allowances() { return kPackageInstallAllows; }

bool package_install_allows(const char* syscall) {
  for (const auto& a : kPackageInstallAllows)
    if (std::string_view(a.syscall) == syscall) return true;
  return false;
}

uint64_t seccomp_refused_clone_flags() {
  uint64_t f = 0;
  for (const auto& e : kTable) {
    if (std::string_view(e.syscall) == "clone") f |= e.arg.value;
  }
  return f;
}

namespace {

void render_entries(std::span<const SeccompEntry> table, std::string& out) {
  for (const auto& e : table) {
    char line[512];
    std::string action =
        e.action == A::kKillProcess ? "kill" : std::string("errno ") + errno_text(e.err);
    std::string cond = "-";
    if (e.arg.not_equal) {
      std::snprintf(line, sizeof line, "arg%u != %#llx", e.arg.index,
                    static_cast<unsigned long long>(e.arg.value));
      cond = line;
    } else if (e.arg.mask != 0) {
      std::snprintf(line, sizeof line, "arg%u & %#llx == %#llx", e.arg.index,
                    static_cast<unsigned long long>(e.arg.mask),
                    static_cast<unsigned long long>(e.arg.value));
      cond = line;
    }
    std::snprintf(line, sizeof line, "%-18s %-12s %-28s # %s\n", e.syscall, action.c_str(),
                  cond.c_str(), e.reason);
    out += line;
  }
}

}  // namespace

std::string render_seccomp_table() {
  std::string out;
  out += "# hull namespace backend seccomp policy\n";
  out += "default: allow\n";
  out += "non-native arch (i386, x32): kill process\n";
  render_entries(kTable, out);
  out += "# set-id file modes (namespace sandboxes, and QEMU on the host for the microVM's workspace)\n";
  render_entries(kSetIdTable, out);
  out += "# package-install profile (image builds only): without the set-id rows, and allowing\n";
  for (const auto& a : kPackageInstallAllows) {
    char line[256];
    std::snprintf(line, sizeof line, "allow %-12s # %s\n", a.syscall, a.reason);
    out += line;
  }
  return out;
}

}  // namespace hull::policy
