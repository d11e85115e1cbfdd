#include "backend/namespace/landlock.h"

#include <fcntl.h>
#include <dirent.h>
#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "backend/namespace/child_setup.h"

namespace hull::backend::ns {

namespace {

constexpr uint64_t kReadRights =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
// Rights that make sense on a file rule (the kernel refuses directory
// rights there).
constexpr uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                                 LANDLOCK_ACCESS_FS_IOCTL_DEV;

// Top-level entries of the new root nobody writes under: procfs (its
// writable files are the kernel's knobs: oom_score_adj, /proc/<pid>/mem
// and the like), the minimal /dev (its writable parts get their own rules
// below), and the agent binary's mount.
bool read_only_top(const char* name) {
  return std::strcmp(name, "proc") == 0 || std::strcmp(name, "dev") == 0 || std::strcmp(name, ".hull") == 0;
}

int add_rule(int ruleset, int dirfd, const char* path, uint64_t access) {
  int fd = ::openat(dirfd, path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 0 : errno;  // e.g. no /dev/tty on a host without one
  landlock_path_beneath_attr rule{};
  rule.allowed_access = access;
  rule.parent_fd = fd;
  int e = ::syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0 ? errno : 0;
  ::close(fd);
  return e;
}

// Write rights beneath every directory at the top of the new root but the
// read-only ones. (Landlock only adds rights, so "everything but /proc"
// has to be spelled as "each directory that is not /proc"; new entries in
// "/" itself are refused as a consequence.)
int add_top_level_rules(int ruleset, uint64_t all) {
  int root = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return errno;
  alignas(8) char buf[4096];
  int e = 0;
  for (;;) {
    long n = ::syscall(SYS_getdents64, root, buf, sizeof buf);
    if (n < 0) e = errno;
    if (n <= 0) break;
    for (long off = 0; off < n && e == 0;) {
      auto* d = reinterpret_cast<const struct dirent64*>(buf + off);
      off += d->d_reclen;
      if (std::strcmp(d->d_name, ".") == 0 || std::strcmp(d->d_name, "..") == 0 || read_only_top(d->d_name)) continue;
      struct stat st {};
      if (::fstatat(root, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) continue;
      e = add_rule(ruleset, root, d->d_name, all);
    }
    if (e != 0) break;
  }
  ::close(root);
  return e;
}

}  // namespace

int landlock_restrict(int abi) {
  landlock_ruleset_attr attr{};
  attr.handled_access_fs = landlock_fs_rights(abi);
  const uint64_t all = attr.handled_access_fs;
  const uint64_t read = (kReadRights | LANDLOCK_ACCESS_FS_IOCTL_DEV) & all;
  long rs = ::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
  if (rs < 0) return errno;
  const int ruleset = static_cast<int>(rs);
  int e = add_rule(ruleset, AT_FDCWD, "/", read);
  if (e == 0) e = add_top_level_rules(ruleset, all);
  for (const char* dir : {"/dev/shm", "/dev/pts"})
    if (e == 0) e = add_rule(ruleset, AT_FDCWD, dir, all);
  for (const char* dev : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"})
    if (e == 0) e = add_rule(ruleset, AT_FDCWD, dev, all & kFileRights);
  if (e == 0 && ::syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) e = errno;
  ::close(ruleset);
  return e;
}

}  // namespace hull::backend::ns
