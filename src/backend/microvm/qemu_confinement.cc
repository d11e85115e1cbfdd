#include "backend/microvm/qemu_confinement.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "backend/namespace/landlock.h"
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
  const int abi = ns::landlock_abi();
  if (abi <= 0) {
    c.report_ = "none: this kernel has no Landlock (QEMU's own seccomp only)";
    return c;
  }
  const uint64_t handled = ns::landlock_fs_rights(abi);
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
              " paths (/usr, its kernel, initramfs, disk" +
              (files.workspace.empty() ? "" : files.workspace_ro ? ", workspace ro" : ", workspace rw") + ")";
  return c;
}

QemuIdentity choose_qemu_identity(const QemuFiles& files) {
  QemuIdentity id;
  if (::geteuid() != 0) {
    id.report = "uid " + std::to_string(::geteuid()) + " (hull's own user)";
    return id;
  }
  struct stat kvm {};
  if (files.kvm && ::stat("/dev/kvm", &kvm) == 0) id.kvm_gid = kvm.st_gid;
  if (!files.workspace.empty()) {
    struct stat ws {};
    if (::stat(files.workspace.c_str(), &ws) == 0 && ws.st_uid != 0) {
      id.change = true;
      id.uid = ws.st_uid;
      id.gid = ws.st_gid;
      id.report = "uid " + std::to_string(id.uid) + " (owner of the workspace)";
      return id;
    }
    id.report = "uid 0: the workspace belongs to root, and 9p acts as QEMU's user";
    return id;
  }
  // nobody/nogroup on Debian; numeric so no NSS lookup is needed.
  id.change = true;
  id.uid = 65534;
  id.gid = 65534;
  id.report = "uid 65534 (nobody; no workspace)";
  return id;
}

int apply_identity(const QemuIdentity& id, pid_t parent) {
  if (!id.change) return 0;
  gid_t groups[1] = {id.kvm_gid};
  if (::setgroups(id.kvm_gid != 0 ? 1 : 0, groups) != 0) return errno;
  if (::setresgid(id.gid, id.gid, id.gid) != 0) return errno;
  if (::setresuid(id.uid, id.uid, id.uid) != 0) return errno;
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
