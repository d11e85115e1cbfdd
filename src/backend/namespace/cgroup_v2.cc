// cgroup v2: one unified hierarchy, controllers enabled per subtree.
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <sstream>

#include "backend/namespace/cgroups.h"
#include "base/sys.h"

namespace hull::backend::ns {

namespace {

std::string cgroup2_mount() {
  for (const char* m : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    struct statfs fs {};
    if (::statfs(m, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) return m;
  }
  return {};
}

std::string own_v2_path() {
  auto text = sys::read_file("/proc/self/cgroup");
  if (!text) return {};
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  }
  return {};
}

bool has_word(const std::string& text, const std::string& w) {
  std::istringstream in(text);
  std::string t;
  while (in >> t) {
    if (t == w) return true;
  }
  return false;
}

}  // namespace

CgroupHost detect_cgroup_v2() {
  CgroupHost h;
  std::string mount = cgroup2_mount();
  if (mount.empty()) {
    h.problem = "cgroup v2: not mounted";
    return h;
  }
  std::string own = own_v2_path();
  std::string parent = own.empty() || own == "/" ? mount : mount + own;
  auto ctrls = sys::read_file(parent + "/cgroup.controllers");
  if (!ctrls || !has_word(*ctrls, "memory") || !has_word(*ctrls, "pids")) {
    h.problem = "cgroup v2 at " + mount + ": memory/pids controllers not available in " + parent +
                " (they are bound to cgroup v1, or not delegated)";
    return h;
  }
  h.version = 2;
  h.memory_parent = h.pids_parent = parent;
  if (has_word(*ctrls, "cpu")) h.cpu_parent = parent;
  return h;
}

Result<std::vector<std::string>> create_cgroups_v2(const CgroupHost& h, const std::string& leaf,
                                                   const CgroupLimits& l) {
  std::string enable = h.cpu_parent.empty() ? "+memory +pids" : "+memory +pids +cpu";
  if (auto s = write_cgroup_file(h.memory_parent, "cgroup.subtree_control", enable); !s) {
    return sys_error("enable controllers in " + h.memory_parent, s.error().err,
                     "the parent cgroup must not hold processes itself (cgroup v2 "
                     "no-internal-process rule); run the supervisor in a leaf cgroup");
  }
  std::string d = h.memory_parent + "/" + leaf;
  if (::mkdir(d.c_str(), 0755) < 0) return sys_error("mkdir " + d);
  std::vector<std::string> dirs{d};
  auto undo = [&](Error e) -> Error {
    (void)kill_and_remove_cgroups(dirs);
    return e;
  };
  if (auto s = write_cgroup_file(d, "memory.max", std::to_string(l.memory_bytes)); !s)
    return undo(s.error());
  if (sys::exists(d + "/memory.swap.max")) (void)write_cgroup_file(d, "memory.swap.max", "0");
  if (auto s = write_cgroup_file(d, "pids.max", std::to_string(l.pids)); !s) return undo(s.error());
  if (l.cpus > 0) {
    if (h.cpu_parent.empty()) return undo(make_error("cgroup cpu", "cpu controller unavailable"));
    long quota = std::lround(l.cpus * 100000);
    if (auto s = write_cgroup_file(d, "cpu.max", std::to_string(quota) + " 100000"); !s)
      return undo(s.error());
  }
  return dirs;
}

}  // namespace hull::backend::ns
