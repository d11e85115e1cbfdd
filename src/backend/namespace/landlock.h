// Landlock for the namespace sandbox: one rule, "full access beneath the new
// root". That sounds like nothing, but it is the one thing mount namespaces
// do not give: a directory fd that leaked from the host across pivot_root
// (or any path reached through one) lies outside the new root's hierarchy, so
// every open, create or exec relative to it is denied.
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
