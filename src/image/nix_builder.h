// The `nix` builder: hull.toml [image] base = "nix:<flake-ref>#<attr>" → an
// image in the store, with the flake's flake.lock recorded as its pin.
//
// Steps:
//   1. The flake ref: a local one ("." "./sub" "/abs" "path:./x") becomes an
//      absolute "path:" ref against the project dir. A bare "." inside a git
//      repo would make nix see only the files git tracks (and need a repo).
//   2. `nix build --json --out-link <staging>/nix-result <ref>#<attr>`, run
//      as root without the nix daemon or a nixbld group, with the nix build
//      sandbox required: nix's default (sandbox-fallback) is to build without
//      it, silently, where the kernel refuses namespaces; here that is an
//      error. Substituters are nix's own config (nix.conf, NIX_CONFIG).
//   3. The output (a directory) becomes / of the image. Its runtime closure
//      (`nix path-info --recursive`) is copied to /nix/store/<name> so store
//      references keep working; /nix/store/<output> itself is a symlink to /
//      rather than a second copy. Symlinks stay symlinks; modes become
//      0755 (dirs, executables) and 0644 — a NAR records only "executable",
//      nix's 0555/0444 are its read-only marker; owner root:root.
//   4. [[image.files]] are copied in; publish(): builder "nix", isolation
//      "nix-sandbox", packages = the closure ({name, version, store_path,
//      nar_hash, nar_size}), lock = the parsed flake.lock (null if none).
//
// The exact nix command lines, and why each option: nix_builder.cc.
#pragma once

#include <string>

#include "base/result.h"
#include "image/store.h"
#include "image/workload_spec.h"

namespace hull::image {

struct NixBuildRequest {
  WorkloadSpec spec;
  std::string spec_path;    // shown in the image's "source"
  std::string project_dir;  // local flake refs and [[image.files]] are relative to it
  bool update = false;      // --recreate-lock-file: re-lock every flake input
  bool locked = false;      // --no-update-lock-file: fail rather than change flake.lock
  int progress_fd = -1;     // human progress lines (and nix's build log), or -1
};

struct NixBuildResult {
  ImageRecord image;
  std::string flake_lock_path;  // empty for a remote flake (its lock lives there)
  bool flake_lock_present = false;
  bool flake_lock_written = false;  // nix created or changed it in this build (commit it)
  double seconds = 0;
};

Result<NixBuildResult> build_nix_image(const NixBuildRequest& req, ImageStore& store);

// ok, or an Error saying why nix cannot build here and what to do about it
// ("nix is not installed: apt-get install nix-bin", not root, ...).
Status nix_usable();

// A flake ref as nix is given it. Local refs become "path:<absolute>";
// local_dir is then the flake's directory (where flake.lock is), else empty.
struct ResolvedFlake {
  std::string ref;
  std::string local_dir;
};
ResolvedFlake resolve_flake_ref(const std::string& ref, const std::string& project_dir);

// What the flake's source is pinned to, from `nix flake metadata --json`:
// the locked ref (narHash of a local flake's files, rev of a github one)
// and its lock. For a build cache key: hull.toml + flake.lock alone miss an
// edit to flake.nix or to the files it builds from.
Result<std::string> nix_flake_fingerprint(const WorkloadSpec& spec, const std::string& project_dir);

}  // namespace hull::image
