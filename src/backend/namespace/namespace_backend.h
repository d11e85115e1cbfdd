// The namespace backend: user/mount/pid/net/ipc/uts/cgroup namespaces,
// idmapped overlay root, pivot_root, landlock, no capabilities, seccomp,
// cgroup limits. Tier "namespace": a shared-kernel wall, named as such.
//
// boot() must be called from a thread that outlives the sandbox: the child
// has PR_SET_PDEATHSIG(SIGKILL), which fires when the *thread* that forked it
// exits. hull's supervisor has one event-loop thread, so this holds.
// Requires host root (idmapped mounts of host filesystems, cgroup writes).
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "backend/backend.h"
#include "backend/namespace/cgroups.h"
#include "backend/namespace/host_ids.h"

namespace hull::backend {

class NamespaceBackend : public Backend {
 public:
  Result<Booted> boot(const BootSpec& spec) override;
};

namespace ns {

class NamespaceInstance : public Instance {
 public:
  NamespaceInstance(pid_t pid, UniqueFd pidfd, CgroupSet cgroups, HostIdLease ids, std::string state_dir,
                    std::string scratch, std::vector<std::pair<std::string, std::string>> report)
      : pid_(pid), pidfd_(std::move(pidfd)), cgroups_(std::move(cgroups)), ids_(std::move(ids)),
        state_dir_(std::move(state_dir)), scratch_(std::move(scratch)),
        report_(std::move(report)) {}
  ~NamespaceInstance() override { (void)destroy(); }

  Tier tier() const override { return Tier::kNamespace; }
  pid_t host_pid() const override { return pid_; }
  int exit_fd() const override { return pidfd_.get(); }
  Status destroy() override;
  std::vector<std::pair<std::string, std::string>> report() const override { return report_; }

 private:
  pid_t pid_;
  UniqueFd pidfd_;
  CgroupSet cgroups_;
  HostIdLease ids_;  // held until the sandbox is gone (destroy())
  std::string state_dir_;
  std::string scratch_;
  std::vector<std::pair<std::string, std::string>> report_;
  bool destroyed_ = false;
};

}  // namespace ns
}  // namespace hull::backend
