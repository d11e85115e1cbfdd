#include "base/result.h"

#include <cstring>

namespace hull {

namespace {
// Symbolic errno names read better in one-line errors than strerror prose.
const char* errno_name(int e) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char* n = strerrorname_np(e);
  if (n != nullptr) return n;
#endif
  return nullptr;
}
}  // namespace

std::string Error::message() const {
  std::string out = op;
  if (err != 0) {
    out += ": ";
    const char* name = errno_name(err);
    out += name != nullptr ? name : "errno";
    out += " (";
    out += std::strerror(err);
    out += ")";
  }
  if (!detail.empty()) {
    out += err != 0 ? " — " : ": ";
    out += detail;
  }
  return out;
}

Error sys_error(std::string op, int err, std::string detail) {
  return Error{std::move(op), err, std::move(detail)};
}

Error make_error(std::string op, std::string detail) {
  return Error{std::move(op), 0, std::move(detail)};
}

}  // namespace hull
