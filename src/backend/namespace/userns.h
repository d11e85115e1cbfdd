// User namespace and idmapped mounts of a namespace sandbox.
//
// User namespaces and idmapped mounts, for both backends.
//
// A namespace sandbox's user namespace maps sandbox ids 0..65535 to a host
// range leased for it (host_ids.h), so sandbox root is never host root. The
// image rootfs and the agent binary are attached through idmapped mounts made
// with that user namespace: on-disk uid X appears inside as uid X.
//
// The workspace is different: it is the user's own directory, and what the
// sandbox leaves there must belong to its owner (never to root, never to a
// leased id). It is attached through an idmapped mount of its own, whose
// user namespace maps exactly one id: the workspace's owner (on disk) to the
// one host id that writes it (the sandbox user's leased id, or QEMU's uid).
// Every other id of the sandbox is unmapped there: it sees the workspace as
// nobody's and cannot create files in it (EOVERFLOW). Idmapped mounts need
// CAP_SYS_ADMIN on the host: these backends need host root.
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

// Writes /proc/<pid>/{uid_map,gid_map}: "0 <host_base> <count>".
Status write_id_maps(pid_t pid, const IdMapping& m);
Result<UniqueFd> open_userns(pid_t pid);

// One id mapped both ways: `inside` (for an idmapped mount: the id on disk)
// is `outside` (the host id that acts on it).
struct OneId {
  uint32_t inside = 0;
  uint32_t outside = 0;
};
// A user namespace that maps just `uid` and `gid`, to give to idmapped_clone
// (no process stays in it: the short-lived child that made it is reaped).
Result<UniqueFd> single_id_userns(OneId uid, OneId gid);

// A detached clone (open_tree OPEN_TREE_CLONE) of the mount at `path`,
// idmapped through `userns_fd` with `extra_attrs` (MOUNT_ATTR_RDONLY, ...)
// set. Attach it with move_mount in the sandbox's mount namespace.
Result<UniqueFd> idmapped_clone(const std::string& path, int userns_fd, uint64_t extra_attrs,
                                bool recursive);

}  // namespace hull::backend::ns
