// Opening the files of an unpacked image archive. See oci_archive.h.
#include "image/oci_archive.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdio>

#include "base/sys.h"

namespace hull::image {

namespace {

// Resolution would keep even "../x" inside the archive; a manifest that
// names one is refused all the same, saying so.
bool plain_relative(const std::string& rel) {
  if (rel.empty() || rel.size() > 4096 || rel[0] == '/') return false;
  for (size_t i = 0; i <= rel.size();) {
    const size_t j = std::min(rel.find('/', i), rel.size());
    const std::string_view part = std::string_view(rel).substr(i, j - i);
    if (part.empty() || part == "." || part == "..") return false;
    i = j + 1;
  }
  return true;
}

}  // namespace

std::string printable_path(std::string_view rel) {
  std::string out = "'";
  for (const unsigned char c : rel.substr(0, 200)) {
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    }
  }
  return out + (rel.size() > 200 ? "'..." : "'");
}

Result<UniqueFd> open_archive_file(const UniqueFd& archive_dir, const std::string& rel) {
  const std::string shown = printable_path(rel);
  if (!plain_relative(rel))
    return make_error("image archive", "manifest names a bad path " + shown);
  // O_NONBLOCK: were a FIFO there, opening it must not wait for a writer
  // before fstat refuses it (the unpacking makes none, but says so nowhere).
  auto f = sys::open_in_root(archive_dir.get(), rel, O_RDONLY | O_NOCTTY | O_NONBLOCK);
  if (!f)
    return sys_error("open " + shown + " in the image archive", f.error().err,
                     "paths in an image archive resolve inside it, symlinks too: the archive must "
                     "hold the file itself");
  struct stat st {};
  if (::fstat(f->get(), &st) < 0) return sys_error("stat " + shown + " in the image archive");
  if (!S_ISREG(st.st_mode)) return make_error("image archive", shown + " is not a regular file");
  return std::move(*f);
}

Result<std::string> read_archive_file(const UniqueFd& archive_dir, const std::string& rel,
                                      size_t max_bytes) {
  HULL_ASSIGN(UniqueFd f, open_archive_file(archive_dir, rel));
  std::string out;
  std::array<std::byte, 65536> buf{};
  for (;;) {
    HULL_ASSIGN(size_t n, sys::read_some(f.get(), buf));
    if (n == 0) return out;
    if (out.size() + n > max_bytes)
      return make_error("image archive", printable_path(rel) + " is larger than " +
                                             std::to_string(max_bytes >> 20) + " MiB");
    out.append(reinterpret_cast<const char*>(buf.data()), n);
  }
}

}  // namespace hull::image
