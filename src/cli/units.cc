// The one-line error printer every command uses. (Units: base/units.h.)
#include <cstdio>

#include "base/terminal_text.h"
#include "cli/commands.h"

namespace hull::cli {

int fail(const std::string& what, const std::string& next) {
  std::string line = "hull: " + what;
  if (!next.empty()) line += " — " + next;
  // Errors often carry the sandbox's words (an agent's reason, a path it
  // named): never its escape sequences.
  std::fprintf(stderr, "%s\n", terminal_safe(line).c_str());
  return kExitHullError;
}

int fail(const Error& e) { return fail(e.message()); }

}  // namespace hull::cli
