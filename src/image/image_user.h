// Who runs a sandbox's commands: hull.toml's / an OCI config's `user`, or
// `hull run --user`, resolved against the image's own /etc/passwd and
// /etc/group ("app" → 1000:1000, home /home/app).
//
// The image may come from an untrusted archive: both files are read through
// openat2(RESOLVE_IN_ROOT) (a symlinked /etc/passwd cannot point at the
// host's), at most 4 MiB each, and every field is checked.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"

namespace hull::image {

struct ImageUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home = "/root";
};

// `user`: "" or "root"; a name; "<uid>"; "<uid>:<gid>"; "<name>:<group>".
// A name must be in the image's passwd (group: in its group file); a bare
// uid takes its passwd entry's gid and home when it has one, else gid = uid
// and home "/".
Result<ImageUser> resolve_image_user(const std::string& rootfs, const std::string& user);

}  // namespace hull::image
