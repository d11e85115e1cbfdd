// `hull image import`: an image archive someone already has, into the store.
//
// Accepted: `docker save` archives (manifest.json: [{Config, RepoTags,
// Layers}]) and OCI image layouts in a tar (oci-layout + index.json →
// manifest → config + layers under blobs/sha256/). Everything in the archive
// is untrusted:
//  - the outer tar is unpacked with the same rules as a layer (oci_layers.h)
//    into a private staging dir;
//  - every path the manifests name resolves inside that dir, symlinks
//    included, and must be a regular file; it is opened once and read from
//    that fd only (oci_archive.h);
//  - every blob is checked against a digest whatever its name: OCI blobs and
//    blobs/sha256/<hex> against their name, every docker-save layer against
//    the config's rootfs.diff_ids (which must list exactly its layers), a
//    config named after a digest against that (layer_digest.h);
//  - all layers of the image share one budget of entries and bytes;
//  - its JSON is bounded in size and nesting (archive_json.h).
// Layers are applied in order into the store's staging rootfs, so a rejected
// layer leaves nothing under a final name.
//
// The config carried over: Env, Cmd (Entrypoint + Cmd), WorkingDir, User,
// Healthcheck (oci_config.h).
#pragma once

#include <string>

#include "base/result.h"
#include "image/oci_layers.h"
#include "image/store.h"

namespace hull::image {

struct ImportResult {
  ImageRecord image;
  size_t layers = 0;
  std::string format;  // "docker-save" or "oci-layout"
};

// Imports `archive` into `store`; tags it `tag` when not empty. Progress
// lines go to progress_fd when >= 0. `limits` hold for all the image's
// layers together (tests pass small ones).
Result<ImportResult> import_image(ImageStore& store, const std::string& archive,
                                  const std::string& tag, int progress_fd,
                                  const LayerLimits& limits = {});

}  // namespace hull::image
