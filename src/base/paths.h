// Where hull keeps state (see ARCHITECTURE.md "State on disk").
//
// HULL_HOME=/x overrides everything: data=/x/data, state=/x/state,
// runtime=/x/run. Otherwise XDG dirs per user, /var/lib|/var/log|/run for root.
// The build cache (default image rootfs, guest kernel) is separate — it holds
// reproducible artifacts keyed by their inputs, shared by every HULL_HOME so
// that tests with a temp HULL_HOME do not rebuild them: HULL_CACHE, else
// $XDG_CACHE_HOME/hull, /var/cache/hull for root.
#pragma once

#include <string>

#include "base/result.h"

namespace hull::paths {

std::string data_dir();     // images, keys
std::string state_dir();    // sandboxes/, audit log
std::string runtime_dir();  // sockets
// runtime_dir(), created 0700 if missing, and only if no other user can
// change it or what leads to it (open_private_dir, base/private_dir.h):
// another user's /tmp/hull-<uid> would let them pose as a supervisor. The
// error says what to do (set XDG_RUNTIME_DIR, or have the directory removed).
Result<std::string> prepare_runtime_dir();
std::string cache_dir();    // built artifacts keyed by inputs

std::string sandboxes_dir();                       // state_dir()/sandboxes
std::string sandbox_dir(const std::string& name);  // sandboxes_dir()/<name>

// Names: [a-z0-9][a-z0-9_.-]{0,62}; also used as path components.
bool valid_sandbox_name(const std::string& name);

// Directory holding the running hull binaries (for finding hull-agent etc.).
std::string self_exe_dir();

// One of hull's own programs (hull, hull-agent): $`env_override` when set;
// else beside the running binary (installed layout), else in the build
// tree's src/<build_subdir>/ next to ours; canonical when found.
std::string sibling_program(const std::string& name, const std::string& build_subdir, const char* env_override);

}  // namespace hull::paths
