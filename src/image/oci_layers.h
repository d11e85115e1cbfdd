// Apply OCI/Docker image layers (tar, tar+gzip, tar+zstd; libarchive's
// built-in decoders only, never an external program) to a rootfs directory.
// Layers come from untrusted images: whatever a layer says, nothing is ever
// created, changed or removed outside the root directory.
//
// Usage: extract into a fresh private directory (TempDir), apply the layers
// bottom to top, and on any Error discard the whole directory. There is no
// rollback: a failed layer leaves the directory half-applied. The root must
// hold no mount points (resolution and removal refuse to cross one), and it
// must sit under a directory only root can enter (mkdtemp's 0700): run as
// root, a layer's setuid-root files are real setuid-root files on the host.
//
// Semantics (OCI image-spec layer.md):
//  - Entries are applied in archive order. A later entry replaces an earlier
//    one of the same name (a directory over a directory merges; anything else
//    is removed first, so a new file never writes through an old hard link).
//  - Names: a leading "/" and "." components are dropped (names are relative
//    to the root); any ".." component, a name longer than PATH_MAX or a
//    component longer than NAME_MAX rejects the layer, naming the entry.
//    (libarchive hands names over as C strings: a NUL inside a tar name
//    truncates it there, which cannot leave the root either.)
//  - Paths resolve with RESOLVE_IN_ROOT: a symlink in an entry's parent path
//    is followed as the image would see it at run time, clamped to the root
//    ("etc -> /etc" then "etc/passwd" writes root/etc/passwd). The entry's own
//    last component is never followed. Missing parents are created (0755);
//    a parent that is a dangling symlink rejects the layer.
//  - Regular files, directories, symlinks (target stored as-is, never followed
//    while extracting) and hard links (target resolved in the root, must exist
//    already) are created. Char/block devices, fifos and sockets are skipped
//    and counted; nothing is mknod'ed. Extended attributes are not applied.
//  - Mode bits (incl. setuid/setgid/sticky) and mtimes are kept; owners are
//    kept (numeric uid/gid) only when running as root. Directory modes and
//    times are set after the whole layer, so writing children does not undo them.
//  - Whiteouts: ".wh.<name>" removes <name> as left by lower layers;
//    ".wh..wh..opq" removes everything in its directory (recursively) that
//    this layer has not itself written so far — applied when met, and entries
//    of this layer are remembered by name, so the marker may come before or
//    after its siblings. Other ".wh..wh." names are skipped. Whiteouts are
//    never written to disk.
//  - Limits: entry count, declared data bytes, and total name bytes; exceeding
//    any is an Error.
#pragma once

#include <cstdint>
#include <string>

#include "base/fd.h"
#include "base/result.h"

namespace hull::image {

struct LayerLimits {
  uint64_t max_entries = 1'000'000;
  uint64_t max_bytes = uint64_t{64} << 30;        // declared data of all entries
  uint64_t max_name_bytes = uint64_t{256} << 20;  // sum of entry name lengths
};

struct LayerStats {
  uint64_t entries = 0;    // archive entries read (all kinds)
  uint64_t bytes = 0;      // declared data bytes of those entries
  uint64_t whiteouts = 0;  // ".wh.<name>" and opaque markers applied
  uint64_t skipped = 0;    // devices, fifos, sockets, aufs ".wh..wh." metadata
};

Result<LayerStats> apply_layer(const std::string& root_dir, const std::string& layer_path,
                               const LayerLimits& limits = {});
// Same, on open descriptors (borrowed): root_dir a directory, layer readable
// from its current offset.
Result<LayerStats> apply_layer_fd(const UniqueFd& root_dir, const UniqueFd& layer,
                                  const LayerLimits& limits = {});

}  // namespace hull::image
