// SHA-256 helpers (OpenSSL EVP): content digests for images, cache keys,
// artifact pinning in plans. Lower-case hex, 64 characters.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace hull {

std::string sha256_hex(std::string_view data);

// Incremental SHA-256, for inputs built piece by piece (a tree's manifest).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  std::string hex();  // finishes; call once

 private:
  void* ctx_;  // EVP_MD_CTX, kept out of this header
};
// Streams the file (any size); errors name the path.
Result<std::string> sha256_file_hex(const std::string& path);

}  // namespace hull
