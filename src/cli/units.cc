// The one-line error printer every command uses. (Units: base/units.h.)
#include <cstdio>

#include "cli/commands.h"

namespace hull::cli {

int fail(const std::string& what, const std::string& next) {
  std::string line = "hull: " + what;
  if (!next.empty()) line += " — " + next;
  std::fprintf(stderr, "%s\n", line.c_str());
  return kExitHullError;
}

int fail(const Error& e) { return fail(e.message()); }

}  // namespace hull::cli
