// The files of an image archive that import unpacked (oci_import.h), opened
// as its manifests name them.
//
// A name is opened under the archive's directory with openat2
// (sys::open_in_root, RESOLVE_IN_ROOT): "/", ".." and every symlink on the
// way resolve inside the archive, so "h -> /" then "h/etc/shadow" names the
// archive's own etc/shadow, never the host's. What opens must be a regular
// file (fstat of that fd, not a check by path), and everything after —
// digest, parse, apply — reads that one fd, never the path again.
//
// Why symlinks resolve inside rather than fail (RESOLVE_NO_SYMLINKS): docker
// before 25 saves a layer that repeats an earlier one as a link to it
// ("<id2>/layer.tar -> ../<id1>/layer.tar"). Inside the archive a link can
// only name the archive's own bytes, which are checked against a digest
// like any others.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/fd.h"
#include "base/result.h"

namespace hull::image {

// `rel` as a manifest names it: relative, no "", "." or ".." components.
Result<UniqueFd> open_archive_file(const UniqueFd& archive_dir, const std::string& rel);
// The bytes of a small file of the archive (its JSON), at most max_bytes.
Result<std::string> read_archive_file(const UniqueFd& archive_dir, const std::string& rel,
                                      size_t max_bytes);
// A name from the archive, fit for an error message: quoted, control bytes
// escaped, cut short.
std::string printable_path(std::string_view rel);

}  // namespace hull::image
