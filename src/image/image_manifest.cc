#include "image/image_manifest.h"

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "base/command.h"
#include "base/sys.h"

namespace hull::image {

namespace fs = std::filesystem;

Result<std::vector<InstalledPackage>> installed_packages(const std::string& rootfs) {
  const std::string admindir = rootfs + "/var/lib/dpkg";
  std::vector<InstalledPackage> pkgs;
  if (!sys::exists(admindir + "/status")) return pkgs;
  HULL_ASSIGN(auto out, Command("dpkg-query")
                            .arg("--admindir=" + admindir)
                            .arg("-W")
                            .arg("-f=${Package}\t${Version}\n")
                            .capture_stdout()
                            .run());
  size_t pos = 0;
  while (pos < out.out.size()) {
    size_t end = out.out.find('\n', pos);
    if (end == std::string::npos) end = out.out.size();
    std::string line = out.out.substr(pos, end - pos);
    pos = end + 1;
    size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    pkgs.push_back({line.substr(0, tab), line.substr(tab + 1)});
  }
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
