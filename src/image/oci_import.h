// `hull image import`: an image archive someone already has, into the store.
//
// Accepted: `docker save` archives (manifest.json: [{Config, RepoTags,
// Layers}]) and OCI image layouts in a tar (oci-layout + index.json →
// manifest → config + layers under blobs/sha256/). Everything in the archive
// is untrusted: the outer tar is unpacked with the same rules as a layer
// (oci_layers.h) into a private staging dir; every blob named by a digest is
// checked against it; every path the manifests name must be a plain path
// inside the archive; layers are applied in order into the store's staging
// rootfs, so a rejected layer leaves nothing under a final name.
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
// lines go to progress_fd when >= 0. `limits` bound the image's layers.
Result<ImportResult> import_image(ImageStore& store, const std::string& archive, const std::string& tag,
                                  int progress_fd, const LayerLimits& limits = {});

}  // namespace hull::image
