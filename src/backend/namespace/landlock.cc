#include "backend/namespace/landlock.h"

#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "backend/namespace/child_setup.h"

namespace hull::backend::ns {

uint64_t landlock_fs_rights(int abi) {
  uint64_t r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: bits 0..12
  if (abi >= 2) r |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) r |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return r;
}

int landlock_abi() {
  long v = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return v < 0 ? 0 : static_cast<int>(v);
}

int landlock_restrict_to_root(int abi) {
  landlock_ruleset_attr attr{};
  attr.handled_access_fs = landlock_fs_rights(abi);
  long rs = ::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
  if (rs < 0) return errno;
  int ruleset = static_cast<int>(rs);
  int e = 0;
  int root = ::open("/", O_PATH | O_CLOEXEC);
  if (root < 0) {
    e = errno;
  } else {
    landlock_path_beneath_attr rule{};
    rule.allowed_access = attr.handled_access_fs;
    rule.parent_fd = root;
    if (::syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0) {
      e = errno;
    } else if (::syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) {
      e = errno;
    }
    ::close(root);
  }
  ::close(ruleset);
  return e;
}

}  // namespace hull::backend::ns
