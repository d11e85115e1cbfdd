// The microvm backend: the sandbox is a QEMU microVM with hull's own guest
// kernel; hull-agent is the guest's /init. The wall is a separate kernel
// under a hypervisor — tier microvm-kvm when KVM runs our guest, else
// microvm-tcg (QEMU's emulator: the same boundary, a slower CPU).
//
// QEMU is the boundary's host process (host_pid/exit_fd); it dies with the
// thread that started it (PR_SET_PDEATHSIG), so a killed supervisor leaves
// only what reap_leftovers() removes from state_dir/backend.json. On the
// host, QEMU runs in its own cgroups (memory = host_memory_budget, CPU quota
// = --cpus, a pids cap on its threads): the guest's limits are enforced by
// the guest kernel, these bound what QEMU itself can take from the host.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backend/backend.h"
#include "backend/namespace/cgroups.h"

namespace hull::backend {

class MicrovmBackend : public Backend {
 public:
  Result<Booted> boot(const BootSpec& spec) override;
};

namespace microvm {

class MicrovmInstance : public Instance {
 public:
  MicrovmInstance(Tier tier, pid_t pid, UniqueFd pidfd, std::optional<ns::CgroupSet> cgroups,
                  std::string state_dir, std::vector<std::pair<std::string, std::string>> report)
      : tier_(tier), pid_(pid), pidfd_(std::move(pidfd)), cgroups_(std::move(cgroups)),
        state_dir_(std::move(state_dir)), report_(std::move(report)) {}
  ~MicrovmInstance() override { (void)destroy(); }

  Tier tier() const override { return tier_; }
  pid_t host_pid() const override { return pid_; }
  int exit_fd() const override { return pidfd_.get(); }
  Status destroy() override;
  std::string exit_explanation() const override;
  std::string health_problem() const override;
  std::vector<std::pair<std::string, std::string>> report() const override { return report_; }

 private:
  Tier tier_;
  pid_t pid_;
  UniqueFd pidfd_;
  std::optional<ns::CgroupSet> cgroups_;  // QEMU's host cgroups, when the host has them
  std::string state_dir_;
  std::vector<std::pair<std::string, std::string>> report_;
  bool destroyed_ = false;
};

// Largest console log kept per sandbox; QEMU's writes beyond it fail (EFBIG)
// so a guest flooding its console cannot fill the host's disk.
inline constexpr uint64_t kConsoleLogMax = 1u << 20;
std::string console_log_path(const std::string& state_dir);
// QEMU's own stderr (its errors; capped like the console).
std::string qemu_log_path(const std::string& state_dir);

}  // namespace microvm
}  // namespace hull::backend
