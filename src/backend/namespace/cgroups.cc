// CgroupSet: common parts (choice of version, add, kill, remove).
#include "backend/namespace/cgroups.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>

#include "base/sys.h"

namespace hull::backend::ns {

CgroupHost detect_cgroup_host() {
  CgroupHost v2 = detect_cgroup_v2();
  if (v2.version == 2) return v2;
  CgroupHost v1 = detect_cgroup_v1();
  if (v1.version == 1) return v1;
  CgroupHost none;
  none.problem = v2.problem + "; " + v1.problem;
  return none;
}

Status write_cgroup_file(const std::string& dir, const std::string& file, const std::string& v) {
  std::string path = dir + "/" + file;
  HULL_ASSIGN(UniqueFd fd, sys::open(path, O_WRONLY));
  auto w = sys::write_all(fd.get(), v);
  if (!w) return sys_error("write " + v + " to " + path, w.error().err);
  return ok_status();
}

Result<CgroupSet> CgroupSet::create(const std::string& name, const CgroupLimits& limits) {
  CgroupHost host = detect_cgroup_host();
  if (host.version == 0) return make_error("cgroups", host.problem);
  uint32_t rnd = 0;
  if (::getrandom(&rnd, sizeof rnd, 0) != sizeof rnd) return sys_error("getrandom");
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "-%08x", rnd);
  std::string leaf = "hull-" + name + suffix;
  auto dirs = host.version == 2 ? create_cgroups_v2(host, leaf, limits)
                                : create_cgroups_v1(host, leaf, limits);
  if (!dirs) return dirs.error();
  return CgroupSet(host.version, std::move(dirs).value());
}

Status CgroupSet::add_process(pid_t pid) const {
  for (const auto& d : dirs_) HULL_TRY(write_cgroup_file(d, "cgroup.procs", std::to_string(pid)));
  return ok_status();
}

Status CgroupSet::remove() {
  Status s = kill_and_remove_cgroups(dirs_);
  if (s) dirs_.clear();
  return s;
}

namespace {

// Processes listed in cgroup.procs; empty when the directory is gone.
std::vector<pid_t> procs_of(const std::string& dir) {
  std::vector<pid_t> out;
  auto text = sys::read_file(dir + "/cgroup.procs");
  if (!text) return out;
  size_t i = 0;
  const std::string& t = *text;
  while (i < t.size()) {
    size_t nl = t.find('\n', i);
    if (nl == std::string::npos) nl = t.size();
    if (nl > i) out.push_back(static_cast<pid_t>(std::stol(t.substr(i, nl - i))));
    i = nl + 1;
  }
  return out;
}

}  // namespace

Status kill_and_remove_cgroups(const std::vector<std::string>& dirs) {
  // Bounded: dying processes leave the cgroup within milliseconds; a process
  // stuck in D state longer than this is reported, not waited for forever.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  Status result;
  for (const auto& d : dirs) {
    if (!sys::exists(d)) continue;
    if (sys::exists(d + "/cgroup.kill")) (void)write_cgroup_file(d, "cgroup.kill", "1");
    for (;;) {
      for (pid_t p : procs_of(d)) ::kill(p, SIGKILL);
      if (::rmdir(d.c_str()) == 0 || errno == ENOENT) break;
      if (errno != EBUSY || std::chrono::steady_clock::now() > deadline) {
        result = sys_error("rmdir " + d, errno, "processes still inside; retry hull rm");
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  return result;
}

}  // namespace hull::backend::ns
