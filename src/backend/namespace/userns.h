// User namespace and idmapped mounts of a namespace sandbox.
//
// Id mapping design: sandbox ids 0..65535 map to host ids
//   host_base = kIdBase + 65536 * slot,  kIdBase = 2^30, slot = hash(name) % 16384
// so sandbox root is never host root, and two sandboxes with different names
// almost always get disjoint host ids (a hash collision only shares ids
// between two sandboxes, never with the host: 2^30.. is far above any
// /etc/subuid range in practice).
//
// The image rootfs, the workspace and the agent binary are attached through
// idmapped mounts made with the sandbox's own user namespace: on-disk uid X
// appears inside as uid X, so files owned by host root look owned by sandbox
// root, and files sandbox root creates in the workspace are owned by host uid
// 0 on disk. (For a non-root supervisor the workspace would need an idmap
// userns mapping the caller's uid; the backend needs host root today — it
// creates idmapped mounts of host filesystems, which requires CAP_SYS_ADMIN.)
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/fd.h"
#include "base/result.h"

namespace hull::backend::ns {

struct IdMapping {
  uint32_t host_base = 0;
  uint32_t count = 65536;
};
IdMapping id_mapping_for(const std::string& sandbox_name);

// Writes /proc/<pid>/{uid_map,gid_map}: "0 <host_base> <count>".
Status write_id_maps(pid_t pid, const IdMapping& m);
Result<UniqueFd> open_userns(pid_t pid);

// A detached clone (open_tree OPEN_TREE_CLONE) of the mount at `path`,
// idmapped through `userns_fd` with `extra_attrs` (MOUNT_ATTR_RDONLY, ...)
// set. Attach it with move_mount in the sandbox's mount namespace.
Result<UniqueFd> idmapped_clone(const std::string& path, int userns_fd, uint64_t extra_attrs,
                                bool recursive);

}  // namespace hull::backend::ns
