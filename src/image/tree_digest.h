// The content digest of a directory tree: what names an image's rootfs in
// the store, so that "the same packages at the same versions" gives the same
// name on any machine, whatever order or time the files were written in.
//
// Covered, per entry, in bytewise order of path: path, type, permission bits
// (07777), uid, gid, extended attributes (names and values, sorted), and the
// payload — SHA-256 and size of a regular file, the target of a symlink,
// major:minor of a device. Not covered: timestamps (builds clamp them, but a
// digest that ignored them could not be fooled by them either), inode
// numbers, hardlink structure (each link is hashed as the file it is), and
// the root directory's own name.
//
// The walk never follows symlinks and opens everything relative to the
// directory fd it came from, so a tree being changed while it is hashed can
// produce a wrong digest but never reads outside the tree.
//
//   auto d = tree_digest("/var/lib/hull/images/.../rootfs");
//   d->digest == "sha256:<64 hex>", d->files, d->bytes
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"

namespace hull::image {

struct TreeDigest {
  std::string digest;  // "sha256:<hex>"
  uint64_t entries = 0;
  uint64_t files = 0;
  uint64_t bytes = 0;  // sum of regular files' sizes
};

Result<TreeDigest> tree_digest(const std::string& root);

}  // namespace hull::image
