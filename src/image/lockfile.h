// hull.lock: what a Debian image build installed, pinned, so a later build
// installs exactly the same bytes (or fails saying which package is gone).
//
// JSON, written next to hull.toml, meant to be committed:
//   {
//     "lock_version": 1,
//     "builder": "debian",
//     "spec_digest": "<sha256 of hull.toml's canonical form>",
//     "suite": "bookworm", "variant": "minbase", "architecture": "amd64",
//     "requested": ["curl", "python3"],       // hull.toml's packages when resolved
//     "sources": ["deb http://deb.debian.org/debian bookworm main", ...],
//     "releases": [{"source": "...", "date": "Sat, 11 Jul 2026 10:16:37 UTC"}, ...],
//     "source_date_epoch": 1796000000,       // newest Release date: clamps timestamps
//     "packages": [{"name", "version", "arch", "sha256", "size"}, ...]   // by name
//   }
// The file is user-editable text, so reading it validates every field.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "image/debian_packages.h"

namespace hull::image {

inline constexpr int kLockVersion = 1;

struct ReleaseStamp {
  std::string source;  // the sources line it belongs to
  std::string date;    // the Release file's Date: field, verbatim (RFC 2822)
  bool operator==(const ReleaseStamp&) const = default;
};

struct DebianLock {
  std::string spec_digest;
  std::string suite;
  std::string variant = "minbase";
  std::string architecture = "amd64";
  std::vector<std::string> requested;  // the spec's packages, sorted: the lock fits a spec when equal
  std::vector<std::string> sources;
  std::vector<ReleaseStamp> releases;
  int64_t source_date_epoch = 0;
  std::vector<DebPackage> packages;  // sorted by name, each with sha256 and size
  bool operator==(const DebianLock&) const = default;
};

std::string lock_to_text(const DebianLock& lock);  // pretty JSON + "\n"
Result<DebianLock> lock_from_text(const std::string& text, const std::string& display_name);
Result<DebianLock> read_lock(const std::string& path);
Status write_lock(const std::string& path, const DebianLock& lock);  // atomic

// "Sat, 11 Jul 2026 10:16:37 UTC" → seconds since the epoch.
Result<int64_t> parse_release_date(const std::string& date);

}  // namespace hull::image
