#include "base/cached_build.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "base/fd.h"
#include "base/sys.h"

namespace hull {

namespace {

Result<UniqueFd> lock(const std::string& path) {
  // O_CLOEXEC: a builder child (mkfs, cpio) must not inherit the lock and hold
  // it past our death.
  HULL_ASSIGN(UniqueFd fd, sys::open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  int rc;
  do rc = ::flock(fd.get(), LOCK_EX);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) return sys_error("flock " + path);
  return fd;
}

// Leftovers of builds that were killed; only called with the lock held.
void remove_stale_builds(const std::string& dir, const std::string& prefix) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.rfind(prefix, 0) == 0) (void)sys::remove_all(dir + "/" + n);
  }
  ::closedir(d);
}

}  // namespace

Result<std::string> ensure_cached(const std::string& dir, const std::string& name,
                                  const std::function<Status(const std::string& tmp)>& build) {
  const std::string final_path = dir + "/" + name;
  if (sys::exists(final_path)) return final_path;
  HULL_TRY(sys::mkdir_p(dir, 0755));
  HULL_ASSIGN(UniqueFd held, lock(dir + "/.lock-" + name));
  if (sys::exists(final_path)) return final_path;  // built while we waited
  const std::string prefix = ".build-" + name + ".";
  remove_stale_builds(dir, prefix);
  const std::string tmp = dir + "/" + prefix + std::to_string(::getpid());
  if (Status st = build(tmp); !st) {
    (void)sys::remove_all(tmp);
    return st.error();
  }
  if (::rename(tmp.c_str(), final_path.c_str()) < 0) {
    Error e = sys_error("rename " + tmp + " -> " + final_path);
    (void)sys::remove_all(tmp);
    return e;
  }
  return final_path;
}

}  // namespace hull
