// Resource limits of a namespace sandbox through cgroups.
//
// Where: cgroup v2 when memory and pids are enabled in the unified hierarchy,
// else cgroup v1, one directory per controller (memory, pids, cpu). The
// sandbox's cgroups are children of the cgroup this process is in for that
// controller ("<ours>/hull-<name>-<rand>"), falling back to the hierarchy root.
//
// Use:
//   1. auto cg = CgroupSet::create(name, limits);   // dirs made, limits written
//   2. cg->add_process(child_pid);                   // before the child execs
//   3. cg->remove();  (destructor too)               // kill leftovers, rmdir
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace hull::backend::ns {

struct CgroupLimits {
  uint64_t memory_bytes = 0;
  uint32_t pids = 0;
  double cpus = 0;  // 0 = unlimited
};

// Where each controller would go, for boot() and for the doctor probe.
struct CgroupHost {
  int version = 0;           // 1 or 2; 0 = no usable cgroups
  std::string memory_parent; // directory under which hull creates its cgroup
  std::string pids_parent;
  std::string cpu_parent;    // empty = cpu controller unavailable
  bool memsw = false;        // v1 memory.memsw.* present (swap counted)
  std::string problem;       // why something is missing + what to do
};
CgroupHost detect_cgroup_host();

class CgroupSet {
 public:
  static Result<CgroupSet> create(const std::string& name, const CgroupLimits& limits);
  CgroupSet(CgroupSet&& o) noexcept : version_(o.version_), dirs_(std::move(o.dirs_)) {
    o.dirs_.clear();
  }
  CgroupSet& operator=(CgroupSet&&) = delete;
  CgroupSet(const CgroupSet&) = delete;
  ~CgroupSet() { (void)remove(); }

  Status add_process(pid_t pid) const;
  Status remove();  // idempotent
  const std::vector<std::string>& dirs() const { return dirs_; }
  int version() const { return version_; }

 private:
  CgroupSet(int v, std::vector<std::string> dirs) : version_(v), dirs_(std::move(dirs)) {}
  int version_;
  std::vector<std::string> dirs_;
};

// Kill every process listed in each directory's cgroup.procs and rmdir it.
// Missing directories are fine. Used by destroy() and reap_leftovers().
Status kill_and_remove_cgroups(const std::vector<std::string>& dirs);

// Internal to the cgroup files.
Status write_cgroup_file(const std::string& dir, const std::string& file, const std::string& v);
Result<std::vector<std::string>> create_cgroups_v1(const CgroupHost& h, const std::string& leaf,
                                                   const CgroupLimits& l);
Result<std::vector<std::string>> create_cgroups_v2(const CgroupHost& h, const std::string& leaf,
                                                   const CgroupLimits& l);
CgroupHost detect_cgroup_v2();
CgroupHost detect_cgroup_v1();

}  // namespace hull::backend::ns
