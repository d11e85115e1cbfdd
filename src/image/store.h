// The image store: images named by content, tags naming images.
//
// An image is a root filesystem plus its run config (env, cmd, workdir,
// user). Its digest is the SHA-256 of a canonical JSON of {rootfs digest
// (tree_digest.h), config}: the same bytes and config give the same name on
// any machine, whoever built or imported them.
//
// On disk, under root (default paths::data_dir()/images):
//   sha256-<hex>/rootfs      the tree (never modified once published)
//   sha256-<hex>/image.json  digest, rootfs digest, config, builder, source,
//                            packages (SBOM), size, created
//   tags/<name>              "sha256:<hex>\n"
//   .stage-*/                an import or build in progress (flock'ed by its
//                            owner) or a killed one (not locked)
//   .lock                    flock for publishing, tagging, removing, gc
//
// Crash safety: an image appears only by rename() of a complete staging dir,
// tags by rename() of a complete file; so `list()` never sees half an image,
// and a killed import leaves a .stage-* dir that gc() (or the next stage()
// under the lock) removes.
//
//   ImageStore store;
//   auto st = store.stage();                     // st->rootfs(): fill it
//   auto rec = store.publish(std::move(*st), meta);  // digests, renames
//   store.tag("myimage", rec->digest);
//   store.resolve("myimage") / resolve("sha256:ab12…") / unique prefix
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/fd.h"
#include "base/result.h"
#include "base/temp_dir.h"
#include "image/workload_spec.h"

namespace hull::image {

struct ImageConfig {
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> cmd;
  std::string workdir = "/";
  std::string user = "root";
  std::optional<HealthCheck> health;  // hull.toml [health], OCI Healthcheck
  std::vector<Service> services;      // hull.toml [[service]], in the written order
};

// What publish() records besides the digests.
struct ImageMeta {
  ImageConfig config;
  std::string builder;  // "debian", "nix", "oci-import"
  std::string source;   // spec path, flake ref, archive path
  nlohmann::json packages = nlohmann::json::array();  // [{name, version}, ...]
  nlohmann::json lock;  // the builder's pin (hull.lock for debian), or null
  std::string isolation;  // where the build ran package code ("microvm-tcg", "host-chroot"), or ""
};

struct ImageRecord {
  std::string digest;         // "sha256:<hex>"
  std::string rootfs_digest;  // "sha256:<hex>"
  ImageMeta meta;
  uint64_t size_bytes = 0;
  uint64_t files = 0;
  std::string created;        // RFC 3339, when first published here
  std::string dir;            // <root>/sha256-<hex>
  std::string rootfs() const { return dir + "/rootfs"; }
};

// A rootfs under construction; dropped (and removed) unless published.
class Staging {
 public:
  const std::string& dir() const { return dir_.path(); }
  std::string rootfs() const { return dir_.path() + "/rootfs"; }

 private:
  friend class ImageStore;
  Staging(TempDir d, UniqueFd held) : dir_(std::move(d)), held_(std::move(held)) {}
  TempDir dir_;
  UniqueFd held_;  // flock on the staging dir: gc() leaves a live build alone
};

struct GcStats {
  uint64_t images_removed = 0;
  uint64_t stages_removed = 0;
  uint64_t bytes_freed = 0;
};

class ImageStore {
 public:
  explicit ImageStore(std::string root = default_root());
  static std::string default_root();
  const std::string& root() const { return root_; }

  Result<Staging> stage();
  // Digests the staged rootfs, writes image.json and renames it into place.
  // If that image already exists, the staging is discarded and the existing
  // record returned.
  Result<ImageRecord> publish(Staging staging, const ImageMeta& meta);

  Status tag(const std::string& name, const std::string& digest);
  // A tag, a full digest ("sha256:<hex>") or a unique prefix of one (>= 8 hex).
  Result<ImageRecord> resolve(const std::string& ref) const;
  // Every image with the tags that point to it, newest first.
  Result<std::vector<std::pair<ImageRecord, std::vector<std::string>>>> list() const;
  // A tag: removes the tag, then the image if no tag is left. A digest:
  // removes the image and every tag pointing to it.
  Status remove(const std::string& ref);
  // Removes untagged images not in `in_use` (digests) and stale stagings
  // (those no live process holds).
  Result<GcStats> gc(const std::set<std::string>& in_use);
  // Re-digests the rootfs; an Error when it no longer matches its name.
  Status verify(const ImageRecord& rec) const;

  static bool valid_tag(const std::string& name);

 private:
  Result<ImageRecord> read_record(const std::string& dir) const;
  std::string root_;
};

}  // namespace hull::image
