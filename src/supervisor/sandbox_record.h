// The on-disk record of one sandbox: the directory paths::sandbox_dir(name)
// holds spec.json (written once by the CLI before the supervisor starts),
// state.json (rewritten atomically by the supervisor at every transition),
// supervisor.log, main.log (output of a detached main command, size-capped)
// and backend.json (the backend's own record, for reaping).
// `hull ls` / `hull inspect` read these files; there is no daemon.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "base/result.h"
#include "base/time_text.h"
#include "image/workload_spec.h"

namespace hull::supervisor {

// The sandbox's network: none (no listener inside at all), or the egress
// proxy with a preset and rules (src/egress, src/policy).
struct SandboxNetwork {
  bool enabled = false;
  std::string preset = "balanced";         // locked | balanced | open
  std::vector<std::string> allow, deny;    // rules as written (--allow/--deny, hull.toml)
  std::vector<std::string> package_hosts;  // the image's own package sources (balanced)
};

struct SandboxSpec {
  std::string name;
  backend::BackendKind backend = backend::BackendKind::kNamespace;
  std::string rootfs;                 // resolved image rootfs dir
  std::string image = "default";      // what the user asked for
  std::string workspace;              // absolute host dir, or empty
  bool workspace_ro = false;
  bool weaken_for_package_install = false;  // image builds only: see backend::BootSpec
  std::vector<std::string> command;   // main command (argv)
  std::vector<std::string> env;       // "K=V" added to the image defaults
  std::string workdir;                // cwd for the main command (default /workspace or /)
  std::string user = "root";          // as asked (image config or --user), for display
  uint32_t uid = 0;                   // ... resolved in the image: who runs commands
  uint32_t gid = 0;
  std::string home = "/root";         // $HOME of those commands
  bool tty = false;                   // main command wants a PTY (-it)
  bool detach = false;                // -d: supervisor runs main itself, output to main.log
  bool remove_on_exit = false;        // --rm
  uint32_t timeout_ms = 0;            // --timeout for the main command
  backend::Limits limits;
  // The image's [[service]]s, started after boot in this order (output to
  // services/<name>.log), and its [health] check.
  std::vector<image::Service> services;
  std::optional<image::HealthCheck> healthcheck;
  SandboxNetwork network;
  std::string created_at;             // RFC 3339 UTC
};

// Closed set of states; transitions: creating → booting → running →
// stopping → exited | failed. (A dead supervisor with a non-final state is
// shown as "dead" by readers that find its pid gone.)
enum class SandboxStatus { kCreating, kBooting, kRunning, kStopping, kExited, kFailed };
const char* status_name(SandboxStatus s);
Result<SandboxStatus> parse_status(const std::string& s);

// A service as the supervisor last saw it.
struct ServiceState {
  std::string name;
  std::string status = "starting";  // starting | running | restarting | exited | failed
  uint32_t restarts = 0;
  std::optional<int> exit_code;     // its last exit
};

struct SandboxState {
  SandboxStatus status = SandboxStatus::kCreating;
  pid_t supervisor_pid = 0;
  pid_t boundary_pid = 0;            // host pid of the boundary's root process
  std::string tier;                  // backend::tier_name(), once booted
  std::string socket;                // control socket path (mode 0600)
  std::optional<int> exit_code;      // of the main command, once it ended
  std::string error;                 // why it failed / what went wrong
  std::string started_at, finished_at;
  std::vector<std::pair<std::string, std::string>> limits_report;  // Instance::report()
  std::vector<ServiceState> services;  // one per spec.services, same order
  // The image's health check: "" (none) | starting | healthy | unhealthy.
  std::string health;
  uint32_t health_failures = 0;  // failures in a row
  std::string health_output;     // the last failed check's output (tail, bounded)
};

std::string spec_path(const std::string& sandbox_dir);   // dir + "/spec.json"
std::string state_path(const std::string& sandbox_dir);  // dir + "/state.json"

Status write_spec(const std::string& sandbox_dir, const SandboxSpec& spec);
Result<SandboxSpec> read_spec(const std::string& sandbox_dir);
Status write_state(const std::string& sandbox_dir, const SandboxState& state);  // atomic
Result<SandboxState> read_state(const std::string& sandbox_dir);

// JSON forms (also what `hull inspect --json` prints).
std::string spec_to_json(const SandboxSpec& spec);
std::string state_to_json(const SandboxState& state);

using hull::now_rfc3339;  // base/time_text.h

}  // namespace hull::supervisor
