// The two digests of an image layer as an archive holds it: of its bytes
// (what an OCI descriptor or a blobs/sha256/<hex> name promises) and of its
// uncompressed tar (its diff_id, what an image config's rootfs.diff_ids
// list). Read with pread, so the fd's offset does not move and the caller
// applies that same fd next (apply_layer_fd): what was checked is what is
// applied. (Import unpacks the archive into a private 0700 directory, so
// nobody else can change the file between the two reads.)
#pragma once

#include <string>

#include "base/fd.h"
#include "base/result.h"
#include "image/oci_layers.h"

namespace hull::image {

struct LayerDigests {
  std::string blob;     // sha256 hex of the bytes as stored
  std::string diff_id;  // sha256 hex after gzip/zstd decompression (== blob when stored plain)
};

// Reads all of `layer`, decompressing it with apply_layer's own decoders.
// The decompressed bytes count against budget.tar_bytes: a small zstd blob
// can inflate to terabytes, and this pass reads every byte of it.
Result<LayerDigests> digest_layer(const UniqueFd& layer, LayerBudget& budget);

}  // namespace hull::image
