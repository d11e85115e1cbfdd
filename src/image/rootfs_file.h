// Reading a file of an image's rootfs on the host, as the image itself
// would see it: openat2(RESOLVE_IN_ROOT) makes absolute symlinks and ".."
// resolve inside the rootfs, so a tree written by a sandbox (or imported)
// cannot point the host at its own /etc/passwd or dpkg database.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "base/result.h"

namespace hull::image {

// The bytes of /<rel> in `rootfs`, at most max_bytes (larger is an error);
// nullopt when it does not exist.
Result<std::optional<std::string>> read_rootfs_file(const std::string& rootfs, const std::string& rel,
                                                    size_t max_bytes);

}  // namespace hull::image
