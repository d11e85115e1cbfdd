// The namespace sandbox's default limits and filesystem layout, as data.
// The backend applies sandbox_mounts() in order, after pivot_root into the
// image overlay and before the workspace and agent binds. Defaults are the
// safe ones; a weaker layout must be a new, loudly named option, not an edit.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace hull::policy {

struct DefaultLimits {
  uint64_t memory_bytes = 2ull << 30;  // memory cgroup limit (and memsw on v1)
  uint32_t pids = 1024;                // pids cgroup limit: stops fork bombs
  double cpus = 0;                     // 0 = unlimited
  uint64_t scratch_bytes = 1ull << 30; // tmpfs for the overlay upper layer
  uint64_t nofile = 65536;             // RLIMIT_NOFILE (capped by the host hard limit)
  uint64_t core = 0;                   // RLIMIT_CORE: no core dumps of sandbox memory
};
inline constexpr DefaultLimits kDefaultLimits{};

enum class MountKind {
  kProc,          // fresh procfs of the sandbox's pid namespace
  kTmpfs,         // data = tmpfs options
  kDevpts,        // data = devpts options (always newinstance)
  kHostDevice,    // bind of the host device node named by `source` (e.g. /dev/null)
  kSymlink,       // symlink at target pointing to `source`
  kMaskWithNull,  // bind /dev/null over target when it exists (hides /proc files)
  kReadOnlyBind,  // bind target onto itself read-only when it exists
};

struct MountEntry {
  MountKind kind;
  const char* target;  // absolute path inside the sandbox
  const char* source;  // host device / symlink target; nullptr otherwise
  const char* data;    // fs options; nullptr otherwise
  unsigned long flags; // MS_* flags
  const char* reason;
};

std::span<const MountEntry> sandbox_mounts();

// Text of the layout table, for `hull inspect` and a golden test.
std::string render_sandbox_mounts();

}  // namespace hull::policy
