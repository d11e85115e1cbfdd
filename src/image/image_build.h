// `hull image build`'s logic, for any front end: find hull.toml, parse it,
// and hand it to the builder its base names (debian now; nix next). The
// result is an image in the store and, for debian, an up-to-date hull.lock
// next to hull.toml.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"
#include "image/debian_builder.h"
#include "image/store.h"

namespace hull::image {

struct SpecLocation {
  std::string spec_path;    // .../hull.toml
  std::string project_dir;  // its directory: [[image.files]] src are relative to it
  std::string lock_path;    // <project_dir>/hull.lock
};

// `path` is a hull.toml file or a directory holding one.
Result<SpecLocation> locate_spec(const std::string& path);

struct BuildOptions {
  bool update = false;  // re-resolve packages even when hull.lock fits
  bool locked = false;  // fail rather than change hull.lock
  bool use_cache = true;  // reuse the image last built from exactly these inputs
  int progress_fd = -1;
  // Where package code runs during a build; none: a host chroot with no
  // network (debian_builder.h). The CLI gives a microVM when it can.
  std::optional<SandboxRunner> sandbox;
};

struct BuildOutcome {
  ImageRecord image;
  std::string builder;      // "debian" | "nix"
  std::string lock_path;    // the pin that was used or written
  bool lock_written = false;
  bool resolved = false;    // packages were (re)resolved from the archive
  uint64_t fetched = 0;     // packages downloaded (0: everything was cached)
  bool cached = false;      // nothing was built: the inputs match an earlier build
  double seconds = 0;
};

// The inputs that decide a build, hashed: hull.toml's canonical form, the
// lock file's bytes (hull.lock / flake.lock) and the content of every
// [[image.files]] source. Equal keys ⇒ the earlier image may be reused.
Result<std::string> build_key(const SpecLocation& where);

Result<BuildOutcome> build_image(const SpecLocation& where, const BuildOptions& opts, ImageStore& store);

}  // namespace hull::image
