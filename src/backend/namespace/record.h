// state_dir/backend.json: what an instance (namespace or microvm) created on the host, so
// that reap_leftovers() can remove it after the supervisor died.
//   {"backend":"namespace","host_pid":123,"start_time":456,
//    "cgroups":["/sys/fs/cgroup/memory/.../hull-x-1a2b3c4d",...],
//    "scratch":"<state_dir>/ns-scratch"}
// start_time (field 22 of /proc/<pid>/stat) guards against killing a recycled pid.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace hull::backend::ns {

struct BackendRecord {
  std::string backend = "namespace";  // or "microvm": same record, same reaping
  pid_t host_pid = 0;
  uint64_t start_time = 0;
  std::vector<std::string> cgroups;
  std::string scratch;
};

std::string record_path(const std::string& state_dir);
Status write_record(const std::string& state_dir, const BackendRecord& r);
// nullopt when there is no record (nothing to reap).
Result<std::optional<BackendRecord>> read_record(const std::string& state_dir);

// Start time of `pid` in clock ticks since boot; 0 when it does not exist.
uint64_t process_start_time(pid_t pid);

// Remove what a record names: kill the process (if it is still the same
// one), wait for it to exit, kill and remove the cgroups, remove scratch and
// the record. Idempotent.
Status remove_recorded(const std::string& state_dir, const BackendRecord& r);

}  // namespace hull::backend::ns
