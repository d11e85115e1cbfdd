// Fuzz what the Debian builder reads as text: hull.lock (a file in the
// user's repo, maybe from an untrusted pull request), apt's plan, and the
// dpkg database a build sandbox wrote.
// Properties: never crashes or throws; an accepted lock re-serialises to
// bytes that parse back to the same lock; every package either parser
// accepts passes the policy checks the builder relies on.
#include <cstdlib>
#include <string>

#include "image/debian_packages.h"
#include "image/lockfile.h"

using namespace hull::image;

namespace {
void check(const DebPackage& p) {
  if (!valid_package_name(p.name) || !valid_package_version(p.version) || !valid_architecture(p.arch)) abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto lock = lock_from_text(text, "hull.lock"); lock) {
    for (const auto& p : lock->packages) check(p);
    const std::string again = lock_to_text(*lock);
    auto back = lock_from_text(again, "hull.lock");
    if (!back || !(*back == *lock) || lock_to_text(*back) != again) abort();
  }
  if (auto plan = parse_apt_simulation(text); plan)
    for (const auto& p : *plan) check(p);
  if (auto installed = parse_dpkg_status(text); installed)
    for (const auto& p : *installed) check(p);
  return 0;
}
