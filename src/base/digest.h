// SHA-256 helpers (OpenSSL EVP): content digests for images, cache keys,
// artifact pinning in plans. Lower-case hex, 64 characters.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace hull {

std::string sha256_hex(std::string_view data);
// Streams the file (any size); errors name the path.
Result<std::string> sha256_file_hex(const std::string& path);

}  // namespace hull
