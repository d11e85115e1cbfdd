// JSON forms of spec.json / state.json. Both files are written by hull itself
// (CLI, supervisor), so reading is lenient about missing fields (defaults keep
// older records readable) but strict about types: a field of the wrong type
// means the file is corrupt, and we say which file.
#include "supervisor/sandbox_record.h"

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "base/sys.h"

namespace hull::supervisor {

namespace {

// ordered_json keeps fields in the order written, so `hull inspect --json`
// and the files on disk read top-down in a sensible order.
using Json = nlohmann::ordered_json;

template <class T>
void read_field(const Json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  out = it->template get<T>();
}

}  // namespace

const char* status_name(SandboxStatus s) {
  switch (s) {
    case SandboxStatus::kCreating: return "creating";
    case SandboxStatus::kBooting: return "booting";
    case SandboxStatus::kRunning: return "running";
    case SandboxStatus::kStopping: return "stopping";
    case SandboxStatus::kExited: return "exited";
    case SandboxStatus::kFailed: return "failed";
  }
  return "unknown";
}

Result<SandboxStatus> parse_status(const std::string& s) {
  for (auto st : {SandboxStatus::kCreating, SandboxStatus::kBooting, SandboxStatus::kRunning,
                  SandboxStatus::kStopping, SandboxStatus::kExited, SandboxStatus::kFailed}) {
    if (s == status_name(st)) return st;
  }
  return make_error("parse sandbox status", "unknown status \"" + s + "\"");
}

std::string spec_path(const std::string& sandbox_dir) { return sandbox_dir + "/spec.json"; }
std::string state_path(const std::string& sandbox_dir) { return sandbox_dir + "/state.json"; }

std::string spec_to_json(const SandboxSpec& s) {
  Json j;
  j["name"] = s.name;
  j["backend"] = backend::backend_name(s.backend);
  j["rootfs"] = s.rootfs;
  j["image"] = s.image;
  j["workspace"] = s.workspace;
  j["workspace_ro"] = s.workspace_ro;
  if (s.weaken_for_package_install) j["weaken_for_package_install"] = true;
  j["command"] = s.command;
  j["env"] = s.env;
  j["workdir"] = s.workdir;
  j["user"] = s.user;
  j["uid"] = s.uid;
  j["gid"] = s.gid;
  j["home"] = s.home;
  j["tty"] = s.tty;
  j["detach"] = s.detach;
  j["remove_on_exit"] = s.remove_on_exit;
  j["timeout_ms"] = s.timeout_ms;
  j["limits"] = Json{{"cpus", s.limits.cpus},
                     {"memory_bytes", s.limits.memory_bytes},
                     {"pids", s.limits.pids},
                     {"disk_bytes", s.limits.disk_bytes}};
  Json services = Json::array();
  for (const auto& sv : s.services)
    services.push_back(Json{{"name", sv.name}, {"argv", sv.cmd}, {"restart", image::restart_policy_name(sv.restart)}});
  j["services"] = services;
  j["healthcheck"] = s.healthcheck ? Json{{"argv", s.healthcheck->cmd},
                                          {"interval_ms", s.healthcheck->interval_ms},
                                          {"timeout_ms", s.healthcheck->timeout_ms},
                                          {"retries", s.healthcheck->retries}}
                                   : Json(nullptr);
  j["network"] = s.network.enabled ? Json{{"preset", s.network.preset},
                                          {"allow", s.network.allow},
                                          {"deny", s.network.deny},
                                          {"package_hosts", s.network.package_hosts}}
                                    : Json(nullptr);
  j["created_at"] = s.created_at;
  return j.dump(2) + "\n";
}

std::string state_to_json(const SandboxState& s) {
  Json j;
  j["status"] = status_name(s.status);
  j["supervisor_pid"] = s.supervisor_pid;
  j["boundary_pid"] = s.boundary_pid;
  j["tier"] = s.tier;
  j["socket"] = s.socket;
  j["exit_code"] = s.exit_code ? Json(*s.exit_code) : Json(nullptr);
  j["error"] = s.error;
  j["started_at"] = s.started_at;
  j["finished_at"] = s.finished_at;
  Json limits = Json::object();
  for (const auto& [k, v] : s.limits_report) limits[k] = v;
  j["limits_report"] = limits;
  Json services = Json::array();
  for (const auto& sv : s.services)
    services.push_back(Json{{"name", sv.name},
                            {"status", sv.status},
                            {"restarts", sv.restarts},
                            {"exit_code", sv.exit_code ? Json(*sv.exit_code) : Json(nullptr)}});
  j["services"] = services;
  if (!s.health.empty())
    j["health"] = Json{{"status", s.health}, {"failures", s.health_failures}, {"last_output", s.health_output}};
  return j.dump(2) + "\n";
}

namespace {

Result<SandboxSpec> spec_from_json(const std::string& text, const std::string& path) {
  try {
    Json j = Json::parse(text);
    if (!j.is_object()) return make_error("read " + path, "not a JSON object");
    SandboxSpec s;
    read_field(j, "name", s.name);
    std::string be = "namespace";
    read_field(j, "backend", be);
    auto kind = backend::parse_backend(be);
    if (!kind) return make_error("read " + path, "unknown backend \"" + be + "\"");
    s.backend = *kind;
    read_field(j, "rootfs", s.rootfs);
    read_field(j, "image", s.image);
    read_field(j, "workspace", s.workspace);
    read_field(j, "workspace_ro", s.workspace_ro);
    read_field(j, "weaken_for_package_install", s.weaken_for_package_install);
    read_field(j, "command", s.command);
    read_field(j, "env", s.env);
    read_field(j, "workdir", s.workdir);
    read_field(j, "user", s.user);
    read_field(j, "uid", s.uid);
    read_field(j, "gid", s.gid);
    read_field(j, "home", s.home);
    read_field(j, "tty", s.tty);
    read_field(j, "detach", s.detach);
    read_field(j, "remove_on_exit", s.remove_on_exit);
    read_field(j, "timeout_ms", s.timeout_ms);
    if (auto it = j.find("limits"); it != j.end() && it->is_object()) {
      read_field(*it, "cpus", s.limits.cpus);
      read_field(*it, "memory_bytes", s.limits.memory_bytes);
      read_field(*it, "pids", s.limits.pids);
      read_field(*it, "disk_bytes", s.limits.disk_bytes);
    }
    if (auto it = j.find("services"); it != j.end() && it->is_array()) {
      for (const auto& sv : *it) {
        image::Service one;
        read_field(sv, "name", one.name);
        read_field(sv, "argv", one.cmd);
        std::string restart = "no";
        read_field(sv, "restart", restart);
        one.restart = image::parse_restart_policy(restart).value_or(image::RestartPolicy::kNo);
        if (one.cmd.empty()) return make_error("read " + path, "service \"" + one.name + "\" has no command");
        // The name becomes a file name (services/<name>.log).
        const bool name_ok = !one.name.empty() && one.name.size() <= 63 &&
                             std::all_of(one.name.begin(), one.name.end(), [](char c) {
                               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                             }) && one.name.front() != '-';
        if (!name_ok) return make_error("read " + path, "bad service name \"" + one.name + "\"");
        s.services.push_back(std::move(one));
      }
    }
    if (auto it = j.find("healthcheck"); it != j.end() && it->is_object()) {
      image::HealthCheck h;
      read_field(*it, "argv", h.cmd);
      read_field(*it, "interval_ms", h.interval_ms);
      read_field(*it, "timeout_ms", h.timeout_ms);
      read_field(*it, "retries", h.retries);
      if (h.cmd.empty() || h.interval_ms == 0 || h.retries == 0)
        return make_error("read " + path, "healthcheck needs a command, an interval and retries");
      s.healthcheck = std::move(h);
    }
    if (auto it = j.find("network"); it != j.end() && it->is_object()) {
      s.network.enabled = true;
      read_field(*it, "preset", s.network.preset);
      read_field(*it, "allow", s.network.allow);
      read_field(*it, "deny", s.network.deny);
      read_field(*it, "package_hosts", s.network.package_hosts);
    }
    read_field(j, "created_at", s.created_at);
    return s;
  } catch (const nlohmann::json::exception& e) {
    return make_error("read " + path, std::string("corrupt JSON: ") + e.what());
  }
}

Result<SandboxState> state_from_json(const std::string& text, const std::string& path) {
  try {
    Json j = Json::parse(text);
    if (!j.is_object()) return make_error("read " + path, "not a JSON object");
    SandboxState s;
    std::string status = "creating";
    read_field(j, "status", status);
    auto st = parse_status(status);
    if (!st) return make_error("read " + path, st.error().detail);
    s.status = *st;
    read_field(j, "supervisor_pid", s.supervisor_pid);
    read_field(j, "boundary_pid", s.boundary_pid);
    read_field(j, "tier", s.tier);
    read_field(j, "socket", s.socket);
    if (auto it = j.find("exit_code"); it != j.end() && !it->is_null()) {
      s.exit_code = it->get<int>();
    }
    read_field(j, "error", s.error);
    read_field(j, "started_at", s.started_at);
    read_field(j, "finished_at", s.finished_at);
    if (auto it = j.find("limits_report"); it != j.end() && it->is_object()) {
      for (const auto& [k, v] : it->items()) s.limits_report.emplace_back(k, v.get<std::string>());
    }
    if (auto it = j.find("services"); it != j.end() && it->is_array()) {
      for (const auto& sv : *it) {
        ServiceState one;
        read_field(sv, "name", one.name);
        read_field(sv, "status", one.status);
        read_field(sv, "restarts", one.restarts);
        if (auto e = sv.find("exit_code"); e != sv.end() && !e->is_null()) one.exit_code = e->get<int>();
        s.services.push_back(std::move(one));
      }
    }
    if (auto it = j.find("health"); it != j.end() && it->is_object()) {
      read_field(*it, "status", s.health);
      read_field(*it, "failures", s.health_failures);
      read_field(*it, "last_output", s.health_output);
    }
    return s;
  } catch (const nlohmann::json::exception& e) {
    return make_error("read " + path, std::string("corrupt JSON: ") + e.what());
  }
}

}  // namespace

Status write_spec(const std::string& sandbox_dir, const SandboxSpec& spec) {
  return sys::write_file_atomic(spec_path(sandbox_dir), spec_to_json(spec), 0644);
}

Result<SandboxSpec> read_spec(const std::string& sandbox_dir) {
  std::string path = spec_path(sandbox_dir);
  HULL_ASSIGN(std::string text, sys::read_file(path, 1u << 20));
  return spec_from_json(text, path);
}

Status write_state(const std::string& sandbox_dir, const SandboxState& state) {
  return sys::write_file_atomic(state_path(sandbox_dir), state_to_json(state), 0644);
}

Result<SandboxState> read_state(const std::string& sandbox_dir) {
  std::string path = state_path(sandbox_dir);
  HULL_ASSIGN(std::string text, sys::read_file(path, 1u << 20));
  return state_from_json(text, path);
}

}  // namespace hull::supervisor
