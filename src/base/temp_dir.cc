#include "base/temp_dir.h"

#include <cstdlib>

#include "base/sys.h"

namespace hull {

Result<TempDir> TempDir::create(const std::string& parent, const std::string& prefix) {
  // Only a missing parent is made: mkdir_p also chmods an existing one, and
  // "/tmp" would lose its sticky, world-writable mode.
  if (!sys::exists(parent)) HULL_TRY(sys::mkdir_p(parent, 0755));
  std::string tmpl = parent + "/" + prefix + "XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return sys_error("mkdtemp " + tmpl);
  return TempDir(tmpl);
}

TempDir::~TempDir() {
  if (!path_.empty()) (void)sys::remove_all(path_);
}

}  // namespace hull
