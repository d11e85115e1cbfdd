// A rootfs directory as a read-only ext4 disk image, for the microVM backend
// (the guest mounts it as its lower layer; QEMU opens it read-only). Built
// once per rootfs with `mkfs.ext4 -d` (e2fsprogs copies owners, modes, links
// and xattrs) and cached under paths::cache_dir()/disks/<key>.ext4.
//
// The key covers the rootfs' identity: its image.json manifest when it is a
// cached image (content-addressed already), else its path and the root
// directory's inode and change time — plus kDiskFormatVersion.
#pragma once

#include <string>

#include "base/result.h"

namespace hull::image {

inline constexpr int kDiskFormatVersion = 2;  // 2: fixed UUID, hash seed, time

std::string disk_key(const std::string& rootfs);
// Path of the ready image; builds it first when needed (progress to progress_fd).
Result<std::string> ensure_rootfs_disk(const std::string& rootfs, int progress_fd);

}  // namespace hull::image
