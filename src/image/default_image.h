// The default image until the images issue lands: Debian bookworm (minbase)
// with bash, coreutils, python3, git, curl, ca-certificates, built with
// mmdebstrap on first use and cached under paths::cache_dir()/images/ keyed by
// a hash of its inputs (suite, package list, variant, builder version), so
// every HULL_HOME and every test shares one build.
//
// Concurrent callers: one builds (flock on the cache entry), others wait.
// An interrupted build leaves only a temp dir that the next build removes;
// the final name appears by rename() once the rootfs is complete.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace hull::image {

struct DefaultImageSpec {
  std::string suite = "bookworm";
  std::string variant = "minbase";
  std::vector<std::string> packages;  // filled by default_spec()
};

DefaultImageSpec default_spec();
std::string spec_key(const DefaultImageSpec& spec);  // hex digest of the inputs

// Path of the ready rootfs, building it first if needed. Progress lines
// (mmdebstrap's own) go to progress_fd when >= 0.
Result<std::string> ensure_default_rootfs(int progress_fd);
// Path if already built, else empty (no build).
std::string cached_default_rootfs();

}  // namespace hull::image
