// `hull inspect NAME`: everything on record about one sandbox — the spec it
// was created with, its state, and the limits the backend says are in force.
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/sandbox_ref.h"
#include "supervisor/egress_bridge.h"

namespace hull::cli {

namespace {
std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out.empty() ? "-" : out;
}
std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }
std::string size_text(uint64_t b) { return b == 0 ? "default" : exact_size(b); }
}  // namespace

int cmd_inspect(const std::string& name, bool json) {
  auto sb = find_sandbox(name);
  if (!sb) return fail(sb.error());
  const auto& spec = sb->spec;
  const auto& st = sb->state;
  if (json) {
    nlohmann::json j;
    j["name"] = sb->name;
    j["dir"] = sb->dir;
    j["spec"] = nlohmann::json::parse(supervisor::spec_to_json(spec), nullptr, false);
    j["state"] = nlohmann::json::parse(supervisor::state_to_json(st), nullptr, false);
    if (spec.network.enabled) {
      const auto c = supervisor::count_network_events(sb->dir);
      j["network"] = {{"attempts", c.attempts}, {"allowed", c.allowed},   {"refused", c.refused},
                      {"aborted", c.aborted},   {"bytes_up", c.bytes_up}, {"bytes_down", c.bytes_down}};
    }
    print_json(j);
    return 0;
  }
  std::vector<std::pair<std::string, std::string>> f{
      {"name", sb->name},
      {"status", supervisor::status_name(st.status)},
      {"tier", or_dash(st.tier)},
      {"backend", backend::backend_name(spec.backend)},
      {"image", spec.image + " (" + or_dash(spec.rootfs) + ")"},
      {"command", display_command(spec.command)},
      {"workdir", or_dash(spec.workdir)},
      {"workspace", spec.workspace.empty() ? "-" : spec.workspace + (spec.workspace_ro ? " (read-only)" : " (read-write)")},
      {"env", join(spec.env)},
      {"tty", spec.tty ? "yes" : "no"},
      {"detached", spec.detach ? "yes" : "no"},
      {"remove on exit", spec.remove_on_exit ? "yes" : "no"},
      {"timeout", spec.timeout_ms == 0 ? "none" : std::to_string(spec.timeout_ms) + " ms"},
      {"cpus", spec.limits.cpus == 0 ? "unlimited" : std::to_string(spec.limits.cpus)},
      {"memory", size_text(spec.limits.memory_bytes)},
      {"disk", size_text(spec.limits.disk_bytes)},
      {"pids", spec.limits.pids == 0 ? "default" : std::to_string(spec.limits.pids)},
      {"created", spec.created_at},
      {"started", or_dash(st.started_at)},
      {"finished", or_dash(st.finished_at)},
      {"exit code", st.exit_code ? std::to_string(*st.exit_code) : "-"},
      {"error", or_dash(st.error)},
      {"supervisor pid", st.supervisor_pid > 0 ? std::to_string(st.supervisor_pid) : "-"},
      {"boundary pid", st.boundary_pid > 0 ? std::to_string(st.boundary_pid) : "-"},
      {"socket", or_dash(st.socket)},
      {"directory", sb->dir},
  };
  if (spec.network.enabled) {
    std::string rules;
    for (const auto& r : spec.network.allow) rules += " --allow " + r;
    for (const auto& r : spec.network.deny) rules += " --deny " + r;
    f.emplace_back("network", spec.network.preset + rules + " (egress proxy at 127.0.0.1:3128 inside)");
    const auto c = supervisor::count_network_events(sb->dir);
    f.emplace_back("network log", std::to_string(c.attempts) + " attempts: " + std::to_string(c.allowed) +
                                      " allowed, " + std::to_string(c.refused) + " refused" +
                                      (c.aborted > 0 ? ", " + std::to_string(c.aborted) + " cut off" : "") +
                                      "; " + exact_size(c.bytes_up) + " up, " + exact_size(c.bytes_down) +
                                      " down (hull logs --network " + sb->name + ")");
  } else {
    f.emplace_back("network", "none (loopback only)");
  }
  if (spec.healthcheck) {
    std::string h = or_dash(st.health);
    if (st.health_failures > 0) h += ", " + std::to_string(st.health_failures) + " failed in a row: " + st.health_output;
    f.emplace_back("health", h + "  [" + display_command(spec.healthcheck->cmd, 60) + " every " +
                                 std::to_string(spec.healthcheck->interval_ms) + " ms]");
  }
  for (const auto& sv : st.services) {
    std::string s = sv.status;
    if (sv.exit_code) s += ", last status " + std::to_string(*sv.exit_code);
    if (sv.restarts > 0) s += ", " + std::to_string(sv.restarts) + " restarts";
    f.emplace_back("service " + sv.name, s);
  }
  for (const auto& [k, v] : st.limits_report) f.emplace_back("limit " + k, v);
  print_fields(f);
  return 0;
}

}  // namespace hull::cli
