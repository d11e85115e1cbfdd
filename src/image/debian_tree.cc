#include "image/debian_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <vector>

#include "base/fd.h"
#include "base/sys.h"
#include "image/image_manifest.h"

namespace hull::image {

namespace fs = std::filesystem;

Status normalize_tree(const std::string& rootfs) {
  HULL_ASSIGN(UniqueFd root, sys::open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto replace = [&](const char* dir, const char* name, const std::string& content) -> Status {
    HULL_ASSIGN(UniqueFd d, sys::open_beneath(root.get(), dir, O_RDONLY | O_DIRECTORY));
    if (::unlinkat(d.get(), name, 0) < 0 && errno != ENOENT) return sys_error(std::string("remove /") + dir + "/" + name);
    int fd = ::openat(d.get(), name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return sys_error(std::string("write /") + dir + "/" + name);
    UniqueFd f(fd);
    HULL_TRY(sys::write_all(f.get(), content));
    if (::fchmod(f.get(), 0644) < 0) return sys_error(std::string("chmod /") + dir + "/" + name);
    return ok_status();
  };
  HULL_TRY(replace("etc", "hostname", "localhost\n"));
  HULL_TRY(replace("etc", "resolv.conf", ""));
  constexpr uid_t kAptUid = 42;  // _apt: a static id in Debian's base-passwd
  for (const char* p : {"var/cache/apt/archives/partial", "var/lib/apt/lists/partial"})
    if (auto d = sys::open_beneath(root.get(), p, O_RDONLY | O_DIRECTORY); d) (void)::fchown(d->get(), kAptUid, 0);
  if (auto dev = sys::open_beneath(root.get(), "dev", O_RDONLY | O_DIRECTORY); dev) {
    std::vector<std::string> nodes;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc/self/fd/" + std::to_string(dev->get()), ec)) {
      struct stat st {};
      const std::string n = e.path().filename().string();
      if (::fstatat(dev->get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
        nodes.push_back(n);
    }
    for (const auto& n : nodes) ::unlinkat(dev->get(), n.c_str(), 0);
  }
  return ok_status();
}

Status check_installed(const DebianLock& lock, const std::string& rootfs) {
  HULL_ASSIGN(auto installed, installed_packages(rootfs));
  std::map<std::string, std::string> have;
  for (const auto& ip : installed) have[ip.name] = ip.version;
  for (const auto& p : lock.packages) {
    auto it = have.find(p.name);
    if (it == have.end() || it->second != p.version)
      return make_error("check the installed packages",
                        p.name + " " + p.version + " from the lock is " +
                            (it == have.end() ? "not installed" : "installed as " + it->second));
  }
  if (have.size() != lock.packages.size())
    return make_error("check the installed packages", std::to_string(have.size()) + " installed, lock has " +
                                                          std::to_string(lock.packages.size()));
  return ok_status();
}

}  // namespace hull::image
