// Debian package facts the builder handles: names, versions, what apt would
// install (parsed from its simulation), a .deb's control data, and the small
// flat repository the offline install step reads.
//
// Everything here parses text that came from the archive or from a .deb, so
// every field is checked against Debian policy's character sets before it is
// used in a file name, a command line or the lock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace hull::image {

struct DebPackage {
  std::string name;     // "libc6"
  std::string version;  // "2.36-9+deb12u14" (epoch kept: "1:2.66-4")
  std::string arch;     // "amd64" | "all"
  std::string sha256;   // of the .deb; empty until fetched
  uint64_t size = 0;    // bytes of the .deb; 0 until fetched
  bool operator==(const DebPackage&) const = default;
};

// Policy §5.6.1/§5.6.12 character sets (plus a length cap).
bool valid_package_name(std::string_view s);
bool valid_package_version(std::string_view s);
bool valid_architecture(std::string_view s);

// "Inst NAME (VERSION ORIGIN [ARCH])" lines of `apt-get --simulate` (as
// mmdebstrap --simulate --verbose prints them) → packages sorted by name.
// Other lines are ignored; a malformed Inst line or one name with two
// versions is an error.
Result<std::vector<DebPackage>> parse_apt_simulation(std::string_view text);

// dpkg's database (var/lib/dpkg/status: deb822 stanzas) → the packages
// whose Status is "install ok installed", sorted by name then architecture.
// Written by package code (in a build sandbox), so hostile: an installed
// entry with a field outside policy, a stanza without Package, or one
// name:arch twice is an error. Other states (config-files, half-installed)
// are left out, as they are not in the image's use.
Result<std::vector<DebPackage>> parse_dpkg_status(std::string_view text);

// "name=version" for apt/mmdebstrap --include.
std::string pinned(const DebPackage& p);

// Package, Version and Architecture of a .deb (dpkg-deb --field), checked.
Result<DebPackage> read_deb_identity(const std::string& deb_path);

// Writes <dir>/Packages (each .deb's control stanza plus Filename, Size,
// SHA256) and <dir>/Release (Suite/Codename = `suite`, so mmdebstrap's
// ?archive(suite) selections match; Date = `date`) for the .debs already in
// `dir`, named by `files` (base names). A flat "./" repository for apt.
Status write_flat_repo(const std::string& dir, const std::vector<std::string>& files,
                       const std::string& suite, const std::string& date);

}  // namespace hull::image
