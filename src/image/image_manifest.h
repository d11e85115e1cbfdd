// image.json: what a built image contains, written next to its rootfs before
// the image is published. Internal to the image module.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "image/default_image.h"

namespace hull::image {

struct InstalledPackage {
  std::string name;
  std::string version;
};

// The "install ok installed" packages of <rootfs>/var/lib/dpkg/status (read
// inside the rootfs, parse_dpkg_status); empty when the rootfs has no dpkg
// database (a test builder's tree).
Result<std::vector<InstalledPackage>> installed_packages(const std::string& rootfs);

// Writes <dir>/image.json for <dir>/rootfs: key, inputs, installed packages,
// size in bytes (apparent size of regular files), build seconds. Fails when a
// requested package is missing from the dpkg database.
Status write_manifest(const DefaultImageSpec& spec, const std::string& key, const std::string& dir,
                      double build_seconds);

}  // namespace hull::image
