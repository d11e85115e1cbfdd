// What this kernel's Landlock can do: its ABI version and the filesystem
// rights that version knows. Shared by every confinement hull applies (the
// namespace sandbox, QEMU, the egress process), each of which builds its
// own ruleset.
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

namespace hull {

// Every filesystem right the given ABI knows (handling a right the kernel
// does not know is EINVAL, so the set grows with the ABI). Async-signal-safe.
uint64_t landlock_fs_rights(int abi);

// Landlock ABI version of the running kernel; 0 when it has none (disabled,
// not compiled in, or not in the lsm= list).
int landlock_abi();

}  // namespace hull
