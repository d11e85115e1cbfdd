// cgroup v1: one hierarchy per controller under /sys/fs/cgroup/<controller>.
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <sstream>

#include "backend/namespace/cgroups.h"
#include "base/sys.h"

namespace hull::backend::ns {

namespace {

// Path of this process's cgroup for `controller` from /proc/self/cgroup
// ("4:memory:/process_api/ab12"); empty when the controller is not v1-mounted.
std::string own_v1_path(const std::string& controller) {
  auto text = sys::read_file("/proc/self/cgroup");
  if (!text) return {};
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    size_t a = line.find(':');
    size_t b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::stringstream ctrls(line.substr(a + 1, b - a - 1));
    std::string c;
    while (std::getline(ctrls, c, ',')) {
      if (c == controller) return line.substr(b + 1);
    }
  }
  return {};
}

bool writable_dir(const std::string& d) {
  struct statvfs vfs {};
  return ::access(d.c_str(), W_OK) == 0 && ::statvfs(d.c_str(), &vfs) == 0 &&
         (vfs.f_flag & ST_RDONLY) == 0;
}

// Parent for hull's cgroup: our own cgroup when writable, else the root.
std::string v1_parent(const std::string& controller) {
  std::string mount = "/sys/fs/cgroup/" + controller;
  if (!sys::exists(mount + "/cgroup.procs")) return {};
  std::string own = own_v1_path(controller);
  if (!own.empty() && own != "/" && writable_dir(mount + own)) return mount + own;
  return writable_dir(mount) ? mount : std::string();
}

}  // namespace

CgroupHost detect_cgroup_v1() {
  CgroupHost h;
  h.memory_parent = v1_parent("memory");
  h.pids_parent = v1_parent("pids");
  h.cpu_parent = v1_parent("cpu");
  if (h.memory_parent.empty() || h.pids_parent.empty()) {
    h.problem = "cgroup v1: memory or pids hierarchy missing or read-only under /sys/fs/cgroup "
                "(mount them, or run hull as root)";
    return h;
  }
  h.version = 1;
  h.memsw = sys::exists(h.memory_parent + "/memory.memsw.limit_in_bytes");
  return h;
}

Result<std::vector<std::string>> create_cgroups_v1(const CgroupHost& h, const std::string& leaf,
                                                   const CgroupLimits& l) {
  std::vector<std::string> dirs;
  auto make = [&](const std::string& parent) -> Result<std::string> {
    std::string d = parent + "/" + leaf;
    if (::mkdir(d.c_str(), 0755) < 0) return sys_error("mkdir " + d);
    dirs.push_back(d);
    return d;
  };
  auto undo = [&](Error e) -> Error {
    (void)kill_and_remove_cgroups(dirs);
    return e;
  };
  auto mem = make(h.memory_parent);
  if (!mem) return undo(mem.error());
  std::string bytes = std::to_string(l.memory_bytes);
  if (auto s = write_cgroup_file(*mem, "memory.limit_in_bytes", bytes); !s) return undo(s.error());
  // memsw >= limit is required; equal means "no swap beyond the limit".
  if (h.memsw) {
    if (auto s = write_cgroup_file(*mem, "memory.memsw.limit_in_bytes", bytes); !s)
      return undo(s.error());
  }
  auto pids = make(h.pids_parent);
  if (!pids) return undo(pids.error());
  if (auto s = write_cgroup_file(*pids, "pids.max", std::to_string(l.pids)); !s)
    return undo(s.error());
  if (!h.cpu_parent.empty()) {
    auto cpu = make(h.cpu_parent);
    if (!cpu) return undo(cpu.error());
    if (l.cpus > 0) {
      constexpr long kPeriod = 100000;
      long quota = std::lround(l.cpus * kPeriod);
      if (auto s = write_cgroup_file(*cpu, "cpu.cfs_period_us", std::to_string(kPeriod)); !s)
        return undo(s.error());
      if (auto s = write_cgroup_file(*cpu, "cpu.cfs_quota_us", std::to_string(quota)); !s)
        return undo(s.error());
    }
  } else if (l.cpus > 0) {
    return undo(make_error("cgroup cpu", "cpu limit requested but no writable cpu controller"));
  }
  return dirs;
}

}  // namespace hull::backend::ns
