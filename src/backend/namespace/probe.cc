// probe_namespace_backend(): what `hull doctor` shows for the namespace tier.
// Each probe tries the real thing where that is cheap, and says what is
// missing and what to do when it fails.
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "backend/backend.h"
#include "backend/namespace/cgroups.h"
#include "backend/namespace/landlock.h"
#include "backend/namespace/seccomp_filter.h"
#include "backend/namespace/userns.h"
#include "base/sys.h"

namespace hull::backend {

namespace {

// A child in a fresh user namespace, parked until destroyed.
struct ParkedUserns {
  pid_t pid = -1;
  UniqueFd hold;  // closing it lets the child exit
  ~ParkedUserns() {
    hold.reset();
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

Probe probe_userns_and_idmap(Probe* idmap) {
  Probe p{"userns", false, {}};
  idmap->name = "idmapped-mounts";
  auto hold = sys::pipe();
  auto ready = sys::pipe();
  if (!hold || !ready) return p.detail = "pipe failed", p;
  ParkedUserns child;
  child.pid = ::fork();
  if (child.pid == 0) {
    char c = ::unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
    (void)::write(ready->second.get(), &c, 1);
    hold->second.reset();
    (void)::read(hold->first.get(), &c, 1);  // EOF when the parent is done
    ::_exit(0);
  }
  if (child.pid < 0) return p.detail = "fork: " + std::string(std::strerror(errno)), p;
  child.hold = std::move(hold->second);
  hold->first.reset();
  ready->second.reset();
  char c = 'n';
  if (::read(ready->first.get(), &c, 1) != 1 || c != 'y') {
    p.detail = "unshare(CLONE_NEWUSER) failed: enable user namespaces "
               "(sysctl user.max_user_namespaces > 0, kernel.unprivileged_userns_clone=1)";
    idmap->detail = "needs user namespaces";
    return p;
  }
  ns::IdMapping ids{1u << 30, 65536};
  if (auto s = ns::write_id_maps(child.pid, ids); !s) {
    p.detail = s.error().message() + " (hull needs root for the namespace backend)";
    idmap->detail = "needs id maps";
    return p;
  }
  p.ok = true;
  p.detail = "user namespaces work; sandbox ids map to 2^30 + 65536*slot";
  auto userns = ns::open_userns(child.pid);
  if (!userns) return idmap->detail = userns.error().message(), p;
  auto tree = ns::idmapped_clone("/", userns->get(), 0, false);
  idmap->ok = tree.ok();
  idmap->detail = tree ? "idmapped mounts work on / (images and workspaces must be on ext4, xfs, "
                         "btrfs or tmpfs)"
                       : tree.error().message();
  return p;
}

Probe probe_overlay() {
  Probe p{"overlay-in-userns", false, {}};
  auto fs = sys::read_file("/proc/filesystems");
  utsname u{};
  ::uname(&u);
  int major = 0, minor = 0;
  std::sscanf(u.release, "%d.%d", &major, &minor);
  bool new_enough = major > 5 || (major == 5 && minor >= 19);
  bool has = fs && fs->find("\toverlay\n") != std::string::npos;
  p.ok = has && new_enough;
  p.detail = std::string("kernel ") + u.release +
             (new_enough ? " supports idmapped overlay lower layers" : " is older than 5.19: no idmapped lower layers") +
             (has ? "; overlay loaded" : "; overlay not in /proc/filesystems (modprobe overlay)");
  return p;
}

}  // namespace

std::vector<Probe> probe_namespace_backend() {
  std::vector<Probe> out;
  Probe idmap;
  out.push_back(probe_userns_and_idmap(&idmap));
  out.push_back(idmap);
  out.push_back(probe_overlay());

  ns::CgroupHost cg = ns::detect_cgroup_host();
  std::string v = "cgroup v" + std::to_string(cg.version);
  auto cg_probe = [&](const char* name, const std::string& dir) {
    Probe p{name, cg.version != 0 && !dir.empty(), {}};
    p.detail = p.ok ? v + " under " + dir
                    : (cg.problem.empty() ? std::string("controller not available; the limit "
                                                        "cannot be enforced")
                                          : cg.problem);
    out.push_back(p);
  };
  cg_probe("cgroup-memory", cg.memory_parent);
  cg_probe("cgroup-pids", cg.pids_parent);
  cg_probe("cgroup-cpu", cg.cpu_parent);

  int abi = landlock_abi();
  out.push_back({"landlock", abi > 0,
                 abi > 0 ? "abi " + std::to_string(abi)
                         : "unavailable: boot with lsm=...,landlock (CONFIG_SECURITY_LANDLOCK); "
                           "sandboxes run without it (leaked host dir fds not blocked)"});
  auto prog = ns::compile_seccomp_policy();
  bool kernel_seccomp = ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
  out.push_back({"seccomp", prog.ok() && kernel_seccomp,
                 !kernel_seccomp ? "kernel without CONFIG_SECCOMP_FILTER"
                 : prog          ? "filter compiles: " + std::to_string(prog->rules) + " rules, " +
                              std::to_string(prog->insns.size()) + " BPF instructions"
                                 : prog.error().message()});
  int pfd = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
  out.push_back({"pidfd", pfd >= 0,
                 pfd >= 0 ? "pidfd_open works" : "pidfd_open failed: kernel >= 5.3 needed"});
  if (pfd >= 0) ::close(pfd);
  return out;
}

}  // namespace hull::backend
