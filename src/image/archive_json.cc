// Bounded parsing of an image archive's JSON. See archive_json.h.
#include "image/archive_json.h"

#include <algorithm>

namespace hull::image {

namespace {

// The deepest nesting of arrays and objects in `text`, counting brackets
// outside strings, and stopping once past `limit`. For text nlohmann
// accepts (strict JSON: no comments) this is the document's depth exactly;
// for other text any answer will do, as the parser refuses it next.
size_t nesting_depth(std::string_view text, size_t limit) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) break;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

Result<nlohmann::json> parse_archive_json(std::string_view text, const std::string& what) {
  if (text.size() > kMaxArchiveJsonBytes)
    return make_error("image archive", what + " is larger than " +
                                           std::to_string(kMaxArchiveJsonBytes >> 20) +
                                           " MiB; no real image has one that large");
  // nlohmann ends its input at a NUL byte, which JSON text never holds:
  // whatever followed one would pass unread and unchecked.
  if (text.find('\0') != std::string_view::npos)
    return make_error("image archive", what + " holds a NUL byte, which JSON never does; "
                                              "the archive is corrupt or crafted, so it is refused");
  if (nesting_depth(text, kMaxArchiveJsonDepth) > kMaxArchiveJsonDepth)
    return make_error("image archive",
                      what + " is nested deeper than " + std::to_string(kMaxArchiveJsonDepth) +
                          " levels; no real image nests that deep, so the archive is refused");
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error("image archive", what + " is not valid JSON");
  return j;
}

}  // namespace hull::image
