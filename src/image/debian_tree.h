// The finishing checks of a Debian build, on the installed tree.
#pragma once

#include <string>

#include "base/result.h"
#include "image/lockfile.h"

namespace hull::image {

// Makes the few files that depend on where the build ran the same
// everywhere, so the same lock gives the same digest on any host and in
// either isolation: the builder's hostname and resolver (mmdebstrap copies
// them in), apt's partial/ owners (apt's download sandbox decides them), and
// /dev's device nodes (a tar from a sandbox cannot carry them; every backend
// mounts its own /dev). In a tree a sandbox wrote: no symlink is followed.
Status normalize_tree(const std::string& rootfs);

// The tree must hold exactly the lock (dpkg's database against it): an SBOM
// that lies is worse than none.
Status check_installed(const DebianLock& lock, const std::string& rootfs);

}  // namespace hull::image
