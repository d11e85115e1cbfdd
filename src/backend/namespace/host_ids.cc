#include "backend/namespace/host_ids.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/sys.h"

namespace hull::backend::ns {

namespace {

// The lease directory must be root's own and closed to others: a user who
// could plant or hold lock files there could make two sandboxes share ids.
Result<UniqueFd> open_lease_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) return sys_error("mkdir " + dir);
  HULL_ASSIGN(UniqueFd fd, sys::open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) return sys_error("stat " + dir);
  if (st.st_uid != ::geteuid() || (st.st_mode & 022) != 0)
    return make_error("host id leases in " + dir,
                      "the directory must belong to root and be writable by root only; remove it and retry");
  return fd;
}

}  // namespace

Result<HostIdLease> HostIdLease::take(const std::string& dir) {
  HULL_ASSIGN(UniqueFd dirfd, open_lease_dir(dir));
  uint32_t start = 0;
  if (::getrandom(&start, sizeof start, 0) != sizeof start) start = static_cast<uint32_t>(::getpid());
  for (uint32_t i = 0; i < kHostIdSlots; ++i) {
    const uint32_t slot = (start + i) % kHostIdSlots;
    const std::string name = std::to_string(slot);
    int fd = ::openat(dirfd.get(), name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return sys_error("open " + dir + "/" + name);
    UniqueFd lock(fd);
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) == 0) return HostIdLease(slot, std::move(lock));
    if (errno != EWOULDBLOCK) return sys_error("flock " + dir + "/" + name);
  }
  return make_error("host id leases", "all " + std::to_string(kHostIdSlots) +
                                          " sandbox id ranges are in use; stop some sandboxes");
}

}  // namespace hull::backend::ns
