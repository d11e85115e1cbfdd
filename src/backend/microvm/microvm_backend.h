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
#include "backend/microvm/piped_log.h"
#include "backend/namespace/cgroups.h"
#include "backend/namespace/host_ids.h"

namespace hull::backend {

class MicrovmBackend : public Backend {
 public:
  Result<Booted> boot(const BootSpec& spec) override;
};

namespace microvm {

class MicrovmInstance : public Instance {
 public:
  MicrovmInstance(Tier tier, pid_t pid, UniqueFd pidfd, std::optional<ns::CgroupSet> cgroups,
                  ns::HostIdLease ids, PipedLog console, PipedLog qemu_log, std::string state_dir,
                  std::vector<std::pair<std::string, std::string>> report)
      : tier_(tier), pid_(pid), pidfd_(std::move(pidfd)), cgroups_(std::move(cgroups)),
        ids_(std::move(ids)), console_(std::move(console)), qemu_log_(std::move(qemu_log)),
        state_dir_(std::move(state_dir)), report_(std::move(report)) {}
  ~MicrovmInstance() override { (void)destroy(); }

  Tier tier() const override { return tier_; }
  pid_t host_pid() const override { return pid_; }
  int exit_fd() const override { return pidfd_.get(); }
  Status destroy() override;
  std::string exit_explanation() override;
  std::string health_problem() const override;
  std::vector<int> output_fds() const override { return {console_.fd(), qemu_log_.fd()}; }
  bool drain_output(int fd) override;
  std::vector<std::pair<std::string, std::string>> report() const override { return report_; }

 private:
  Tier tier_;
  pid_t pid_;
  UniqueFd pidfd_;
  std::optional<ns::CgroupSet> cgroups_;  // QEMU's host cgroups, when the host has them
  ns::HostIdLease ids_;                   // QEMU's uid, held until QEMU is reaped
  PipedLog console_;                     // the guest console -> console.log
  PipedLog qemu_log_;                    // QEMU's stderr -> qemu.log
  std::string state_dir_;
  std::vector<std::pair<std::string, std::string>> report_;
  bool destroyed_ = false;
};

// Largest console log (and QEMU log) kept per sandbox; what comes beyond it
// is dropped, and a guest flooding its console is stopped (health_problem).
inline constexpr uint64_t kConsoleLogMax = 1u << 20;
std::string console_log_path(const std::string& state_dir);
// QEMU's own stderr (its errors; capped like the console).
std::string qemu_log_path(const std::string& state_dir);

}  // namespace microvm
}  // namespace hull::backend
