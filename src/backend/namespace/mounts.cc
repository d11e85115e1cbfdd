// Child-side mount helpers: applied after pivot_root, allocation-free.
// Mount targets come from the image, which may contain symlinks; every target
// is checked or re-created so that a mount never lands somewhere a symlink
// pointed to.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "backend/namespace/child_setup.h"

namespace hull::backend::ns {

int ensure_dir(const char* path) {
  if (::mkdir(path, 0755) == 0) return 0;
  if (errno != EEXIST) return errno;
  struct stat st {};
  if (::lstat(path, &st) < 0) return errno;
  if (S_ISDIR(st.st_mode)) return 0;
  // A symlink or file where we need a directory: replace it.
  if (::unlink(path) < 0) return errno;
  return ::mkdir(path, 0755) == 0 ? 0 : errno;
}

int ensure_file(const char* path) {
  struct stat st {};
  if (::lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode) ? ::rmdir(path) < 0 : ::unlink(path) < 0) return errno;
  }
  int fd = ::open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  ::close(fd);
  return 0;
}

int write_small_file(const char* path, const char* content) {
  int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0 && errno == ELOOP) {  // the image had a symlink here: replace it
    if (::unlink(path) < 0) return errno;
    fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  }
  if (fd < 0) return errno;
  size_t len = std::strlen(content);
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::write(fd, content + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return e;
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return 0;
}

int attach_detached(int mount_fd, const char* target) {
  if (::move_mount(mount_fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0) return errno;
  return 0;
}

int apply_mount(const ChildMount& m) {
  using policy::MountKind;
  struct stat st {};
  switch (m.kind) {
    case MountKind::kProc:
      if (int e = ensure_dir(m.target); e != 0) return e;
      return ::mount("proc", m.target, "proc", m.flags, nullptr) == 0 ? 0 : errno;
    case MountKind::kTmpfs:
      if (int e = ensure_dir(m.target); e != 0) return e;
      return ::mount("tmpfs", m.target, "tmpfs", m.flags, m.data) == 0 ? 0 : errno;
    case MountKind::kDevpts:
      if (int e = ensure_dir(m.target); e != 0) return e;
      return ::mount("devpts", m.target, "devpts", m.flags, m.data) == 0 ? 0 : errno;
    case MountKind::kHostDevice:
      if (int e = ensure_file(m.target); e != 0) return e;
      return ::mount(m.source, m.target, nullptr, MS_BIND, nullptr) == 0 ? 0 : errno;
    case MountKind::kSymlink:
      if (::symlink(m.source, m.target) == 0) return 0;
      if (errno != EEXIST) return errno;
      if (::unlink(m.target) < 0) return errno;
      return ::symlink(m.source, m.target) == 0 ? 0 : errno;
    case MountKind::kMaskWithNull:
      if (::lstat(m.target, &st) < 0) return 0;  // nothing to hide
      return ::mount(m.source, m.target, nullptr, MS_BIND, nullptr) == 0 ? 0 : errno;
    case MountKind::kReadOnlyBind:
      if (::lstat(m.target, &st) < 0) return 0;
      if (::mount(m.target, m.target, nullptr, MS_BIND | MS_REC, nullptr) < 0) return errno;
      return ::mount(nullptr, m.target, nullptr,
                     MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                     nullptr) == 0
                 ? 0
                 : errno;
  }
  return EINVAL;
}

}  // namespace hull::backend::ns
