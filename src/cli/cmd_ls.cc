// `hull ls`: one line per sandbox, read from the sandbox directories (there
// is no daemon). Running ones only unless -a.
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/sandbox_ref.h"

namespace hull::cli {

namespace {
nlohmann::json summary_json(const SandboxRef& sb) {
  nlohmann::json j;
  j["name"] = sb.name;
  j["status"] = supervisor::status_name(sb.state.status);
  j["tier"] = sb.state.tier;
  j["backend"] = backend::backend_name(sb.spec.backend);
  j["created"] = sb.spec.created_at;
  j["command"] = sb.spec.command;
  j["exit_code"] = sb.state.exit_code ? nlohmann::json(*sb.state.exit_code) : nlohmann::json(nullptr);
  j["error"] = sb.state.error;
  j["supervisor_pid"] = sb.state.supervisor_pid;
  j["health"] = sb.state.health.empty() ? nlohmann::json(nullptr) : nlohmann::json(sb.state.health);
  return j;
}

std::string status_cell(const SandboxRef& sb) {
  std::string s = supervisor::status_name(sb.state.status);
  if (sb.state.status == supervisor::SandboxStatus::kExited && sb.state.exit_code)
    s += " (" + std::to_string(*sb.state.exit_code) + ")";
  if (sb.state.status == supervisor::SandboxStatus::kFailed && !sb.state.error.empty())
    s += " (" + sb.state.error + ")";
  if (sb.state.status == supervisor::SandboxStatus::kRunning && !sb.state.health.empty())
    s += " (" + sb.state.health + ")";
  return s;
}
}  // namespace

int cmd_ls(bool json, bool all) {
  std::vector<SandboxRef> shown;
  for (const auto& name : sandbox_names()) {
    auto sb = find_sandbox(name);
    if (!sb) continue;  // half-created or foreign directory: nothing to show
    if (!all && is_final(sb->state.status)) continue;
    shown.push_back(std::move(*sb));
  }
  if (json) {
    auto arr = nlohmann::json::array();
    for (const auto& sb : shown) arr.push_back(summary_json(sb));
    print_json(arr);
    return 0;
  }
  std::vector<std::vector<std::string>> rows{{"NAME", "STATUS", "TIER", "BACKEND", "CREATED", "COMMAND"}};
  for (const auto& sb : shown)
    rows.push_back({sb.name, status_cell(sb), sb.state.tier.empty() ? "-" : sb.state.tier,
                    backend::backend_name(sb.spec.backend), relative_time(sb.spec.created_at),
                    display_command(sb.spec.command, 40)});
  print_table(rows);
  return 0;
}

}  // namespace hull::cli
