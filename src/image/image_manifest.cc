#include "image/image_manifest.h"

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "base/sys.h"
#include "image/debian_packages.h"
#include "image/rootfs_file.h"

namespace hull::image {

namespace fs = std::filesystem;

// Debian's full archive installed would be ~60 MiB of status; an image is far less.
constexpr size_t kMaxStatusBytes = 64u << 20;

Result<std::vector<InstalledPackage>> installed_packages(const std::string& rootfs) {
  // Written by package code in a build sandbox: read inside the rootfs only
  // (a var/lib/dpkg symlink cannot send us to the host's), bounded, and
  // parsed by our own checked reader rather than by dpkg-query.
  HULL_ASSIGN(std::optional<std::string> status, read_rootfs_file(rootfs, "var/lib/dpkg/status", kMaxStatusBytes));
  std::vector<InstalledPackage> pkgs;
  if (!status) return pkgs;
  HULL_ASSIGN(std::vector<DebPackage> parsed, parse_dpkg_status(*status));
  for (auto& p : parsed) pkgs.push_back({std::move(p.name), std::move(p.version)});
  return pkgs;
}

namespace {

uint64_t tree_size(const std::string& root) {
  uint64_t total = 0;
  std::error_code ec;
  // Symlinks are not followed: an absolute link in a rootfs points at the host.
  for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (it->is_regular_file(ec2) && !it->is_symlink(ec2)) total += it->file_size(ec2);
  }
  return total;
}

}  // namespace

Status write_manifest(const DefaultImageSpec& spec, const std::string& key, const std::string& dir,
                      double build_seconds) {
  const std::string rootfs = dir + "/rootfs";
  HULL_ASSIGN(auto pkgs, installed_packages(rootfs));
  nlohmann::json installed = nlohmann::json::object();
  for (const auto& p : pkgs) installed[p.name] = p.version;
  if (!pkgs.empty()) {
    for (const auto& want : spec.packages)
      if (!installed.contains(want))
        return make_error("check image " + key,
                          "package " + want + " is not installed in " + rootfs);
  }
  nlohmann::json j = {
      {"key", key},
      {"builder_version", kBuilderVersion},
      {"suite", spec.suite},
      {"variant", spec.variant},
      {"requested_packages", spec.packages},
      {"installed_packages", installed},
      {"size_bytes", tree_size(rootfs)},
      {"build_seconds", build_seconds},
      {"built_at_unix", static_cast<int64_t>(std::time(nullptr))},
  };
  return sys::write_file_atomic(dir + "/image.json", j.dump(2) + "\n");
}

}  // namespace hull::image
