#include "base/digest.h"

#include <fcntl.h>
#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdlib>
#include <memory>

#include "base/sys.h"

namespace hull {

namespace {

struct CtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_MD_CTX, CtxFree>;

// OpenSSL only fails here on allocation failure or a broken library; that is
// a programmer/environment bug, not a user error.
Ctx new_sha256() {
  Ctx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) std::abort();
  return ctx;
}

std::string finish_hex(EVP_MD_CTX* ctx) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, md.data(), &len) != 1) std::abort();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  Ctx ctx = new_sha256();
  if (EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1) std::abort();
  return finish_hex(ctx.get());
}

Sha256::Sha256() : ctx_(new_sha256().release()) {}
Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Sha256::update(std::string_view data) {
  if (EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size()) != 1) std::abort();
}
std::string Sha256::hex() { return finish_hex(static_cast<EVP_MD_CTX*>(ctx_)); }

Result<std::string> sha256_file_hex(const std::string& path) {
  HULL_ASSIGN(UniqueFd fd, sys::open(path, O_RDONLY | O_CLOEXEC));
  Ctx ctx = new_sha256();
  std::array<std::byte, 64 * 1024> buf{};
  for (;;) {
    auto n = sys::read_some(fd.get(), buf);
    if (!n) {
      Error e = n.error();
      e.op = "read " + path;
      return e;
    }
    if (*n == 0) break;
    if (EVP_DigestUpdate(ctx.get(), buf.data(), *n) != 1) std::abort();
  }
  return finish_hex(ctx.get());
}

}  // namespace hull
