// Landlock for the namespace sandbox, applied in the child after the new
// root is complete:
//   read, list, exec   everything beneath the new root
//   write              beneath each top-level directory but /proc, /dev and
//                      /.hull; /dev/shm, /dev/pts; the standard devices
// Nothing outside the new root at all: a directory fd that leaked from the
// host across pivot_root (or any path reached through one) lies outside its
// hierarchy, so every open, create or exec relative to it is denied. And
// procfs' writable knobs (oom_score_adj, /proc/<pid>/mem, ...) are not the
// sandbox's to turn, nor is a new entry in "/" itself.
#pragma once

#include <linux/landlock.h>

#include <cstdint>

// Debian 12's headers stop at ABI 2; the values are kernel ABI.
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

namespace hull::backend::ns {

// Every filesystem right the given ABI knows (handling a right the kernel
// does not know is EINVAL, so the set grows with the ABI).
uint64_t landlock_fs_rights(int abi);

// Landlock ABI version of the running kernel; 0 when it has none (disabled,
// not compiled in, or not in the lsm= list).
int landlock_abi();

}  // namespace hull::backend::ns
