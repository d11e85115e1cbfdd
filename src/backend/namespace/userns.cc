#include "backend/namespace/userns.h"

#include <fcntl.h>
#include <sys/mount.h>

#include <cerrno>

#include "base/sys.h"

namespace hull::backend::ns {

namespace {
constexpr uint32_t kIdBase = 1u << 30;
constexpr uint32_t kSlots = 16384;
}  // namespace

IdMapping id_mapping_for(const std::string& sandbox_name) {
  uint32_t h = 2166136261u;  // FNV-1a: stable across builds and hosts
  for (unsigned char c : sandbox_name) h = (h ^ c) * 16777619u;
  return IdMapping{kIdBase + 65536u * (h % kSlots), 65536};
}

Status write_id_maps(pid_t pid, const IdMapping& m) {
  std::string line = "0 " + std::to_string(m.host_base) + " " + std::to_string(m.count) + "\n";
  for (const char* which : {"uid_map", "gid_map"}) {
    std::string path = "/proc/" + std::to_string(pid) + "/" + which;
    HULL_ASSIGN(UniqueFd fd, sys::open(path, O_WRONLY));
    auto w = sys::write_all(fd.get(), line);
    if (!w) return sys_error("write " + path, w.error().err, "cannot map sandbox ids");
  }
  return ok_status();
}

Result<UniqueFd> open_userns(pid_t pid) {
  return sys::open("/proc/" + std::to_string(pid) + "/ns/user", O_RDONLY);
}

Result<UniqueFd> idmapped_clone(const std::string& path, int userns_fd, uint64_t extra_attrs,
                                bool recursive) {
  unsigned rec = recursive ? AT_RECURSIVE : 0;
  int fd = ::open_tree(AT_FDCWD, path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
  if (fd < 0) return sys_error("open_tree " + path);
  UniqueFd tree(fd);
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_IDMAP | extra_attrs;
  attr.userns_fd = static_cast<uint64_t>(userns_fd);
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | rec, &attr, sizeof attr) < 0) {
    return sys_error("idmap mount " + path, errno,
                     "the filesystem must support idmapped mounts (ext4, xfs, btrfs, tmpfs; "
                     "kernel >= 5.19); see hull doctor");
  }
  return tree;
}

}  // namespace hull::backend::ns
