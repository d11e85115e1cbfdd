// Build-once cache entries for slow, reproducible artifacts (a rootfs disk
// image, the guest initramfs): `<dir>/<name>` appears only by rename() of a
// complete build, so "it exists" means "it is ready". Concurrent callers —
// threads or processes — serialize on flock(<dir>/.lock-<name>); the loser
// finds the winner's result. A build killed midway leaves `.build-<name>.*`,
// which the next builder removes once it holds the lock.
#pragma once

#include <functional>
#include <string>

#include "base/result.h"

namespace hull {

// `build(tmp)` must create the file or directory `tmp` (which does not exist
// yet; its parent does). Returns <dir>/<name>.
Result<std::string> ensure_cached(const std::string& dir, const std::string& name,
                                  const std::function<Status(const std::string& tmp)>& build);

}  // namespace hull
