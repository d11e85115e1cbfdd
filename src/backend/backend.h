// Backend: boots ONE boundary around a rootfs and hands back a connected byte
// stream to hull-agent running inside as PID 1. That is its whole job; it
// knows nothing about exec, files or policy text (ARCHITECTURE.md).
//
// Protocol for callers (the supervisor):
//   1. auto be = make_backend(BackendKind::kNamespace);
//   2. auto booted = be->boot(spec);          // Result<Booted>
//   3. speak the wire protocol over booted.channel
//   4. booted.instance->exit_fd() becomes readable when the boundary's root
//      process has exited (pidfd) — watch it in the event loop
//   5. booted.instance->destroy() (also run by the destructor): kill, reap,
//      remove cgroups/scratch; idempotent; reports anything it could not remove
//   After a crash of the supervisor, reap_leftovers(state_dir) removes what
//   the dead instance left (it records what it creates in state_dir/backend.json).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace hull::backend {

enum class BackendKind { kNamespace, kMicrovm };
// The wall actually in place, named honestly everywhere it is shown.
enum class Tier { kNamespace, kMicrovmKvm, kMicrovmTcg };
const char* tier_name(Tier t);  // "namespace", "microvm-kvm", "microvm-tcg"
const char* backend_name(BackendKind k);
Result<BackendKind> parse_backend(const std::string& s);  // "namespace" | "microvm"

struct Limits {
  double cpus = 0;              // 0 = unlimited; 1.5 = one and a half CPUs
  uint64_t memory_bytes = 0;    // 0 = backend default
  uint32_t pids = 0;            // 0 = backend default
  uint64_t disk_bytes = 0;      // writable layer (tmpfs over the image); 0 = backend default
};

struct BootSpec {
  std::string name;         // sandbox name; becomes the hostname
  std::string rootfs;       // image rootfs directory, never modified
  std::string workspace;    // host directory mounted at /workspace; empty = none
  bool workspace_ro = false;
  // The sandbox's user (ids inside the sandbox): the one id that /workspace
  // belongs to inside, and that may create files in it. What it creates
  // there belongs to the workspace's owner on the host (see userns.h).
  uint32_t user_uid = 0;
  uint32_t user_gid = 0;
  // A weakening, loudly named, for image builds only: the sandbox's root
  // keeps what a package installer needs inside its own user namespace
  // (chown, chroot, mount, set-id files), and Landlock is off (it forbids
  // mount). Refused with a writable workspace: the build's only host input
  // is read-only, its only output a tar the host checks as hostile.
  // (Namespace backend; a microVM's guest root has all that in its own kernel.)
  bool weaken_for_package_install = false;
  std::string state_dir;    // the sandbox directory (scratch, backend.json)
  std::string agent_path;   // host path of the static hull-agent binary
  Limits limits;
};

class Instance {
 public:
  virtual ~Instance() = default;
  virtual Tier tier() const = 0;
  virtual pid_t host_pid() const = 0;  // the boundary's root process on the host
  // pidfd of host_pid(): readable once it has exited. Owned by the Instance.
  virtual int exit_fd() const = 0;
  // Kill everything inside, reap, unmount, remove cgroups and scratch.
  virtual Status destroy() = 0;
  // Why the boundary ended, from what it left behind (a microVM's console:
  // kernel panic, the agent's last words), for the "sandbox died" report.
  // One line, safe to print. "" when there is nothing to say.
  virtual std::string exit_explanation() { return {}; }
  // Output of the boundary's host process that hull keeps in capped logs (a
  // microVM's console, QEMU's own messages): the supervisor's loop watches
  // these fds (owned by the Instance) and calls drain_output(fd) whenever
  // one is readable, until it returns false (that writer is gone).
  virtual std::vector<int> output_fds() const { return {}; }
  virtual bool drain_output(int fd) { return false; }
  // Checked every few seconds while the sandbox runs: a reason to stop it
  // (e.g. "guest flooded its console"), or "" when all is well. Cheap.
  virtual std::string health_problem() const { return {}; }
  // Limits and features in force, for `hull inspect` ("memory": "cgroup-v1", ...).
  virtual std::vector<std::pair<std::string, std::string>> report() const = 0;
};

struct Booted {
  UniqueFd channel;  // connected stream socket to the agent
  std::unique_ptr<Instance> instance;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Result<Booted> boot(const BootSpec& spec) = 0;
};

Result<std::unique_ptr<Backend>> make_backend(BackendKind kind);

// Remove whatever a dead instance left behind (processes, cgroups, scratch),
// using the record in state_dir/backend.json. Safe to call twice.
Status reap_leftovers(const std::string& state_dir);

// One host capability check, for `hull doctor`.
struct Probe {
  std::string name;    // "userns", "cgroup-memory", "landlock", ...
  bool ok = false;
  std::string detail;  // "cgroup v1 at /sys/fs/cgroup/memory" / why missing + fix
};
std::vector<Probe> probe_namespace_backend();
// qemu, guest kernel, cpio, mkfs.ext4, and which accelerator (tier) applies.
std::vector<Probe> probe_microvm_backend();
// Ok when a microVM can be booted here (QEMU and a guest kernel are there);
// else the first missing piece and how to get it. Cheap: for early CLI errors.
Status check_microvm_ready();
// The microVM tier this host gives and why (see microvm/accel_probe.h); the
// first call per QEMU/kernel/host may boot a probe guest (at most 5 s).
struct TierChoice {
  Tier tier = Tier::kMicrovmTcg;
  std::string reason;  // "kvm: /dev/kvm present, guest probe failed (...) -> tcg"
};
Result<TierChoice> microvm_tier();

}  // namespace hull::backend
