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
//  - Limits: entry count, declared data bytes, and total name bytes, counted
//    in a LayerBudget that every layer of one image shares; exceeding any is
//    an Error.
#pragma once

#include <cstdint>
#include <string>

#include "base/fd.h"
#include "base/result.h"

namespace hull::image {

// The defaults of LayerLimits, for one whole image (all its layers
// together), well above any real image. The tar bytes leave room past the
// data for each entry's header blocks, padding and long-name records.
inline constexpr uint64_t kMaxImageEntries = 1'000'000;
inline constexpr uint64_t kMaxImageBytes = uint64_t{64} << 30;
inline constexpr uint64_t kMaxImageNameBytes = uint64_t{256} << 20;
inline constexpr uint64_t kMaxImageTarBytes = uint64_t{72} << 30;

struct LayerLimits {
  uint64_t max_entries = kMaxImageEntries;
  uint64_t max_bytes = kMaxImageBytes;           // declared data of all entries
  uint64_t max_name_bytes = kMaxImageNameBytes;  // sum of entry name lengths
  // Decompressed layer streams, counted by digest_layer (layer_digest.h).
  uint64_t max_tar_bytes = kMaxImageTarBytes;
};

// What the layers applied with it have used of `limits`. Give every layer of
// one image the same budget: the limits are the image's, so twenty layers
// each just under them cannot add up to twenty times as much.
struct LayerBudget {
  LayerLimits limits;
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t name_bytes = 0;
  uint64_t tar_bytes = 0;
};

struct LayerStats {
  uint64_t entries = 0;    // archive entries read (all kinds)
  uint64_t bytes = 0;      // declared data bytes of those entries
  uint64_t whiteouts = 0;  // ".wh.<name>" and opaque markers applied
  uint64_t skipped = 0;    // devices, fifos, sockets, aufs ".wh..wh." metadata
};

// One layer on its own, with a budget of `limits` for it alone.
Result<LayerStats> apply_layer(const std::string& root_dir, const std::string& layer_path,
                               const LayerLimits& limits = {});
// One layer of an image, on open descriptors (borrowed): root_dir a
// directory, layer read from its current offset; counted against `budget`.
Result<LayerStats> apply_layer_fd(const UniqueFd& root_dir, const UniqueFd& layer,
                                  LayerBudget& budget);

}  // namespace hull::image
