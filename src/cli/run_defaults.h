// hull.toml's [sandbox] table as the defaults of `hull run --image PATH`.
// A flag the user gave (or its $HULL_* variable) wins; a key the file
// leaves unset keeps hull run's own default. Only a hull.toml run by path
// brings its [sandbox]: the table belongs to that directory, not to the
// image, so `hull run --image TAG` never picks it up.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "cli/commands.h"
#include "image/workload_spec.h"

namespace hull::cli {

// Fills the unset fields of `o` from `d`. `project_dir` is the directory of
// the hull.toml: the workspace the table's `workspace` key talks about.
// Returns one line per setting the file decided, for the user to see
// ("memory 2g (hull.toml)"), and what it could not honour.
std::vector<std::string> apply_sandbox_defaults(const image::SandboxDefaults& d, const std::string& project_dir,
                                                RunOptions& o);

}  // namespace hull::cli
