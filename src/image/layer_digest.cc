// Digesting an image layer. See layer_digest.h.
#include "image/layer_digest.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string_view>

#include "base/digest.h"
#include "base/sys.h"

namespace hull::image {

namespace {

using Block = std::array<std::byte, 1 << 16>;

std::string_view view(const Block& b, size_t n) {
  return {reinterpret_cast<const char*>(b.data()), n};
}

// The stored bytes, read with pread at our own offset and hashed as
// libarchive pulls them through.
struct Stored {
  int fd = -1;
  uint64_t offset = 0;
  Sha256 sha;
  Block buf{};

  Result<size_t> next() {
    HULL_ASSIGN(size_t n, sys::pread_some(fd, buf, offset));
    sha.update(view(buf, n));
    offset += n;
    return n;
  }
};

la_ssize_t read_stored(archive* a, void* opaque, const void** out) {
  auto* s = static_cast<Stored*>(opaque);
  auto n = s->next();
  if (!n) {
    archive_set_error(a, n.error().err, "%s", n.error().message().c_str());
    return -1;
  }
  *out = s->buf.data();
  return static_cast<la_ssize_t>(*n);
}

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

Error archive_error(archive* a) {
  const char* s = archive_error_string(a);
  return make_error("digest layer", s != nullptr ? s : "malformed layer");
}

}  // namespace

Result<LayerDigests> digest_layer(const UniqueFd& layer, LayerBudget& budget) {
  Stored stored;
  stored.fd = layer.get();
  std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
  if (!a) return make_error("digest layer", "out of memory");
  // apply_layer's decoders, so the bytes hashed are the bytes it will read;
  // the "raw" format hands over the whole decompressed stream, tar or not.
  if (archive_read_support_filter_gzip(a.get()) != ARCHIVE_OK ||
      archive_read_support_filter_zstd(a.get()) != ARCHIVE_OK)
    return make_error("digest layer", "libarchive lacks built-in gzip or zstd");
  if (archive_read_support_format_raw(a.get()) != ARCHIVE_OK ||
      archive_read_open(a.get(), &stored, nullptr, read_stored, nullptr) != ARCHIVE_OK)
    return archive_error(a.get());
  Sha256 tar;
  archive_entry* e = nullptr;
  const int r = archive_read_next_header(a.get(), &e);
  if (r != ARCHIVE_EOF && r != ARCHIVE_OK && r != ARCHIVE_WARN) return archive_error(a.get());
  const uint64_t max = budget.limits.max_tar_bytes;
  for (Block buf{}; r != ARCHIVE_EOF;) {
    const la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
    if (n < 0) return archive_error(a.get());
    if (n == 0) break;
    if (static_cast<uint64_t>(n) > max - std::min(budget.tar_bytes, max))
      return make_error("digest layer",
                        "the image's layers decompress to more than " + std::to_string(max) +
                            " bytes in all; hull does not import an image that large");
    budget.tar_bytes += static_cast<uint64_t>(n);
    tar.update(view(buf, static_cast<size_t>(n)));
  }
  // The decoder may stop short of the end (after a gzip stream): the bytes
  // after it are still part of the blob its digest covers.
  for (;;) {
    HULL_ASSIGN(size_t n, stored.next());
    if (n == 0) break;
  }
  return LayerDigests{stored.sha.hex(), tar.hex()};
}

}  // namespace hull::image
