// A directory that only its owner (and root) can change: where hull keeps the
// control sockets a CLI connects to. In a directory another local user made,
// or may write, they could put their own socket in place of a supervisor's
// and receive what the CLI sends it (`cp` uploads, `exec -i` stdin).
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <string>

#include "base/fd.h"
#include "base/result.h"

namespace hull {

enum class Missing { kRefuse, kCreate };

// Walks `path` (made absolute) from "/" one component at a time, each opened
// with O_PATH|O_NOFOLLOW under the one before and judged by fstat of what was
// opened, and refuses:
//   - a symlink anywhere on the path (its target is not what we checked);
//   - a directory on the way owned by anyone but `owner` or root, or writable
//     by group/others without the sticky bit (/tmp is fine: root's, sticky, so
//     nobody else can rename or remove what is ours in it);
//   - the directory itself if `owner` does not own it or group/others may
//     write it (sticky or not: they could create names in it).
// With Missing::kCreate a missing component is made 0700, then judged like
// any other (so losing a race with someone's mkdir is caught, not trusted).
// Returns an O_PATH fd of the directory. Errors name the offending component.
Result<UniqueFd> open_private_dir(const std::string& path, Missing missing, uid_t owner = ::geteuid());

}  // namespace hull
