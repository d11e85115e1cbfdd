// Host-built images: the default image (a built-in hull.toml, see
// ensure_default_rootfs) and the Debian builder's own sandbox image
// (builder_spec()). The builder image is made with plain mmdebstrap on first
// use and cached under paths::cache_dir()/images/ keyed by a hash of its
// inputs (suite, package list, variant, builder version), so every HULL_HOME
// and every test shares one build.
//
// On disk (all under paths::cache_dir()/images/):
//   default-<key>/rootfs        the ready root filesystem
//   default-<key>/image.json    manifest: key, inputs, installed packages
//                               (dpkg-query), size, build seconds
//   .lock-<key>                 flock()ed by whoever builds <key>
//   .build-<key>-XXXXXX/        a build in progress (or an interrupted one)
//
// Concurrent callers: one builds (flock on .lock-<key>), others wait and then
// find it ready. The final name appears by rename() only once the rootfs and
// image.json are complete, so "default-<key> exists" means "ready". An
// interrupted build leaves only a .build-* dir, which the next build removes
// once it can take that key's lock.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/result.h"

namespace hull::image {

struct DefaultImageSpec {
  std::string name = "default image";  // for progress lines only (not in the key)
  std::string suite = "bookworm";
  std::string variant = "minbase";
  std::vector<std::string> packages;  // filled by default_spec()
};

DefaultImageSpec default_spec();
// The Debian builder's own sandbox image: minbase + mmdebstrap. Built on
// the host (like the default image: the host's Debian is the trust root),
// cached the same way, and only ever run in a sandbox.
DefaultImageSpec builder_spec();
Result<std::string> ensure_builder_rootfs(int progress_fd);
// First 16 hex digits (64 bits) of the SHA-256 of the canonical inputs:
// suite, variant, sorted+deduplicated packages, kBuilderVersion.
std::string spec_key(const DefaultImageSpec& spec);

// The default image is a built-in hull.toml (default_spec()'s packages on
// Debian default_spec().suite) built by the debian builder into a store
// shared by every HULL_HOME: cache_dir()/default-store, tagged
// "default-<first 12 hex of the spec digest>", pinned by the hull.lock its
// first build writes in cache_dir()/default-image/ (with the hull.toml it
// was built from). It is built on the host ("isolation": "host-chroot"):
// like the builder image, its only input is Debian's archive, the trust
// root. Concurrent callers: one builds (flock), the others wait.
// Path of the ready rootfs, building it first if needed (progress lines
// to progress_fd when >= 0).
Result<std::string> ensure_default_rootfs(int progress_fd);
// Path if already built, else empty (no build).
std::string cached_default_rootfs();
// The built-in spec's text, and the store holding the default image.
std::string default_spec_toml();
std::string default_store_root();
std::string default_image_tag();

// ---- the parts above are made of (also the seam tests use) ----

// Bump when the way a rootfs is built changes, so old caches are not reused.
inline constexpr int kBuilderVersion = 1;

// Fills `rootfs` (which does not exist yet; its parent does) with a root
// filesystem for `spec`. The default is build_with_mmdebstrap; tests inject
// a builder that writes a tiny tree or fails midway.
using RootfsBuilder =
    std::function<Status(const DefaultImageSpec& spec, const std::string& rootfs, int progress_fd)>;

// mmdebstrap --variant=<variant> --include=<packages> <suite> <rootfs>, using
// the host's apt sources; its stderr is streamed to progress_fd.
Status build_with_mmdebstrap(const DefaultImageSpec& spec, const std::string& rootfs,
                             int progress_fd);

// cache_dir()/images/default-<key>: the image's directory (may not exist).
std::string image_dir(const DefaultImageSpec& spec);
// The general form: ensure_default_rootfs() is
// ensure_rootfs(default_spec(), build_with_mmdebstrap, progress_fd).
Result<std::string> ensure_rootfs(const DefaultImageSpec& spec, const RootfsBuilder& build,
                                  int progress_fd);
std::string cached_rootfs(const DefaultImageSpec& spec);

}  // namespace hull::image
