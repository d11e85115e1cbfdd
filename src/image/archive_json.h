// JSON from an image archive (oci-layout, index.json, manifests, the image
// config): someone else's bytes, parsed here, once, with its size and its
// nesting bounded.
//
// Why the nesting is checked on the text, before nlohmann sees it:
// nlohmann's parser keeps its own stack and builds a document 100000 levels
// deep without complaint, but copying a value (value(), a copy constructor),
// comparing or dumping it recurses once per level, so such a document
// overflows the stack wherever some later code copies the wrong field. One
// pass over the text (brackets outside strings) bounds every later use at
// once, whoever writes it, and cannot itself recurse.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/result.h"

namespace hull::image {

// Real configs and manifests nest 4 or 5 levels deep.
inline constexpr size_t kMaxArchiveJsonDepth = 64;
inline constexpr size_t kMaxArchiveJsonBytes = size_t{16} << 20;

// `what` names the document in errors ("manifest.json", "the image config").
Result<nlohmann::json> parse_archive_json(std::string_view text, const std::string& what);

}  // namespace hull::image
