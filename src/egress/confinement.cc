#include "egress/confinement.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cerrno>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/landlock_abi.h"
#include "base/sys.h"

namespace hull::egress {

namespace {

Status drop_capabilities() {
  for (int cap = 0; cap <= 63; ++cap) {
    if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) break;  // past the last cap this kernel knows
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EPERM) return sys_error("drop capability");
  }
  (void)::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct none[2]{};
  if (::syscall(SYS_capset, &hdr, none) != 0) return sys_error("capset");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return sys_error("no_new_privs");
  return ok_status();
}

Result<std::string> restrict_files() {
  const int abi = landlock_abi();
  if (abi <= 0) return std::string("no Landlock on this kernel");
  const uint64_t handled = landlock_fs_rights(abi);
  landlock_ruleset_attr attr{};
  attr.handled_access_fs = handled;
  long rs = ::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
  if (rs < 0) return sys_error("landlock_create_ruleset");
  UniqueFd ruleset(static_cast<int>(rs));
  const uint64_t read_dir = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
  int n = 0;
  // Not /etc whole: a root egress process could read /etc/shadow. The
  // resolver's files by their real paths (resolv.conf is often a symlink
  // into /run), the CA store's directories, and /usr (libraries, NSS
  // modules: no secrets there).
  std::vector<std::string> paths = {"/usr", "/dev/urandom", "/etc/ssl", "/etc/ca-certificates"};
  for (const char* f : {"/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/gai.conf",
                        "/etc/host.conf", "/etc/ld.so.cache", "/etc/localtime", "/etc/services",
                        "/etc/protocols"}) {
    char real[PATH_MAX];
    if (::realpath(f, real) != nullptr) paths.emplace_back(real);
  }
  for (const auto& p : paths) {
    auto fd = sys::open(p, O_PATH | O_CLOEXEC);
    if (!fd) continue;
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) continue;
    landlock_path_beneath_attr rule{};
    rule.allowed_access = S_ISDIR(st.st_mode) ? read_dir : LANDLOCK_ACCESS_FS_READ_FILE;
    rule.parent_fd = fd->get();
    if (::syscall(SYS_landlock_add_rule, ruleset.get(), LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0)
      return sys_error("landlock rule for " + p);
    ++n;
  }
  if (::syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0) return sys_error("landlock_restrict_self");
  return "landlock abi " + std::to_string(abi) + ": read-only " + std::to_string(n) + " paths (/usr, the resolver's files in /etc, the CA store)";
}

// Each: a call the egress process never needs and an attacker would want.
constexpr const char* kDeniedSyscalls[] = {
    "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsmount",
    "fsconfig", "mount_setattr", "unshare", "setns", "bpf", "perf_event_open", "userfaultfd",
    "keyctl", "add_key", "request_key", "init_module", "finit_module", "delete_module",
    "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "open_by_handle_at",
    "name_to_handle_at", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
    "setfsuid", "setfsgid", "chmod", "fchmod", "fchmodat", "chown", "fchown", "lchown",
    "fchownat", "mknod", "mknodat", "quotactl", "acct", "settimeofday", "clock_settime",
    "adjtimex", "clock_adjtime", "sethostname", "setdomainname", "vhangup", "iopl", "ioperm",
    "modify_ldt", "personality", "kcmp", "lookup_dcookie", "fanotify_init", "syslog"};

Status install_seccomp() {
  scmp_filter_ctx ctx = ::seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) return make_error("seccomp_init");
  int rc = 0;
  for (const char* name : kDeniedSyscalls) {
    const int nr = ::seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    rc = ::seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
    if (rc != 0) break;
  }
  if (rc == 0) rc = ::seccomp_load(ctx);
  ::seccomp_release(ctx);
  if (rc != 0) return sys_error("seccomp for the egress process", -rc);
  return ok_status();
}

}  // namespace

Result<std::string> confine_egress_process() {
  HULL_TRY(drop_capabilities());
  HULL_ASSIGN(std::string files, restrict_files());
  HULL_TRY(install_seccomp());
  return "no capabilities, no_new_privs; " + files + "; seccomp: " +
         std::to_string(std::size(kDeniedSyscalls)) + " calls refused";
}

}  // namespace hull::egress
