#include "backend/microvm/qemu_confinement.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "backend/namespace/landlock.h"
#include "backend/namespace/userns.h"
#include "base/sys.h"

namespace hull::backend::microvm {

namespace {

constexpr uint64_t kRead = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
constexpr uint64_t kExec = LANDLOCK_ACCESS_FS_EXECUTE;
// Rights that make sense on a file (not a directory) rule.
constexpr uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                                 LANDLOCK_ACCESS_FS_IOCTL_DEV;

Status add_rule(int ruleset, const std::string& path, uint64_t access, uint64_t handled) {
  HULL_ASSIGN(UniqueFd fd, sys::open(path, O_PATH | O_CLOEXEC));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat " + path);
  access &= handled;
  if (!S_ISDIR(st.st_mode)) access &= kFileRights;
  landlock_path_beneath_attr rule{};
  rule.allowed_access = access;
  rule.parent_fd = fd.get();
  if (::syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0)
    return sys_error("landlock rule for " + path);
  return ok_status();
}

}  // namespace

Result<QemuConfinement> QemuConfinement::build(const QemuFiles& files) {
  QemuConfinement c;
  const int abi = landlock_abi();
  if (abi <= 0) {
    c.report_ = "none: this kernel has no Landlock (QEMU's own seccomp only)";
    return c;
  }
  const uint64_t handled = landlock_fs_rights(abi);
  landlock_ruleset_attr attr{};
  attr.handled_access_fs = handled;
  long rs = ::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
  if (rs < 0) return sys_error("landlock_create_ruleset");
  c.ruleset_ = UniqueFd(static_cast<int>(rs));
  const int r = c.ruleset_.get();
  const uint64_t all = handled;
  const uint64_t dev_rw = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                          LANDLOCK_ACCESS_FS_IOCTL_DEV;
  size_t n = 0;
  auto rule = [&](const std::string& p, uint64_t access) -> Status {
    HULL_TRY(add_rule(r, p, access, handled));
    ++n;
    return ok_status();
  };
  HULL_TRY(rule("/usr", kRead | kExec));
  if (sys::exists("/etc/ld.so.cache")) HULL_TRY(rule("/etc/ld.so.cache", LANDLOCK_ACCESS_FS_READ_FILE));
  HULL_TRY(rule("/dev/null", dev_rw));
  HULL_TRY(rule("/dev/urandom", LANDLOCK_ACCESS_FS_READ_FILE));
  if (files.kvm) HULL_TRY(rule("/dev/kvm", dev_rw));
  for (const auto& p : files.read_only) HULL_TRY(rule(p, LANDLOCK_ACCESS_FS_READ_FILE));
  if (!files.workspace.empty()) HULL_TRY(rule(files.workspace, files.workspace_ro ? kRead : all));
  c.report_ = "landlock abi " + std::to_string(abi) + ": " + std::to_string(n) +
              " paths (/usr, its kernel, initramfs" +
              (files.workspace.empty() ? "" : files.workspace_ro ? ", workspace ro" : ", workspace rw") + ")";
  return c;
}

Result<QemuIdentity> make_qemu_identity(const QemuFiles& files, uint32_t host_id, uint32_t user_uid,
                                        uint32_t user_gid) {
  QemuIdentity id;
  if (::geteuid() != 0) {
    id.report = "uid " + std::to_string(::geteuid()) + " (hull's own user)";
    return id;
  }
  struct stat kvm {};
  if (files.kvm && ::stat("/dev/kvm", &kvm) == 0) id.kvm_gid = kvm.st_gid;
  id.change = true;
  id.host_id = host_id;
  id.inside_uid = user_uid;
  id.inside_gid = user_gid;
  HULL_ASSIGN(id.userns, ns::single_id_userns({user_uid, host_id}, {user_gid, host_id}));
  id.report = "uid " + std::to_string(host_id) + " (leased for this sandbox; " + std::to_string(user_uid) +
              " in its own user namespace), no capabilities";
  return id;
}

int apply_identity(const QemuIdentity& id, pid_t parent) {
  if (!id.change) return 0;
  // Groups first, as host root: the namespace below maps none of them, but
  // a process keeps its supplementary groups across setns (kvm for /dev/kvm).
  gid_t groups[1] = {id.kvm_gid};
  if (::setgroups(id.kvm_gid != 0 ? 1 : 0, groups) != 0) return errno;
  // Entering the namespace gives every capability in it (and none outside).
  if (::setns(id.userns.get(), CLONE_NEWUSER) != 0) return errno;
  // Give them all up: the bounding set, then securebits so that uid 0 in it
  // (a sandbox whose user is root) gains nothing back at exec.
  for (int cap = 0; cap <= 63; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
    if (errno == EINVAL) break;  // past the kernel's last capability
    return errno;
  }
  const unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
                             SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
                             SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
  if (::prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) != 0) return errno;
  if (::setresgid(id.inside_gid, id.inside_gid, id.inside_gid) != 0) return errno;
  if (::setresuid(id.inside_uid, id.inside_uid, id.inside_uid) != 0) return errno;
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct none[2]{};
  if (::syscall(SYS_capset, &hdr, none) != 0) return errno;
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return errno;
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return errno;
  if (::getppid() != parent) return ESRCH;  // the parent died before re-arming
  return 0;
}

int QemuConfinement::apply() const {
  if (!ruleset_) return 0;
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  if (::syscall(SYS_landlock_restrict_self, ruleset_.get(), 0) != 0) return errno;
  return 0;
}

}  // namespace hull::backend::microvm
