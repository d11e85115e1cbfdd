// The public face of hull.toml handling: parse and load (the schema walk
// itself is in workload_spec_schema.cc, the value checks in
// workload_spec_values.cc), the canonical form, its digest and enum names.
#include "image/workload_spec.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "base/digest.h"
#include "base/sys.h"
#include "image/workload_spec_internal.h"

namespace hull::image {

namespace {

using spec_detail::kBackendChoices;
using spec_detail::kNetworkModes;
using spec_detail::kRestartPolicies;
using spec_detail::kWorkspaceModes;
using spec_detail::Spelling;

// Part of every digest: bump when canonical_json's shape or meaning changes.
constexpr int kCanonicalVersion = 1;

template <class E, size_t N>
const char* spelling(E value, const Spelling<E> (&set)[N]) {
  for (const auto& s : set)
    if (s.value == value) return s.text.data();
  return "?";
}

nlohmann::json or_null(const auto& opt) {
  return opt ? nlohmann::json(*opt) : nlohmann::json(nullptr);
}

}  // namespace

std::string SpecDiagnostic::text() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

const char* base_kind_name(BaseKind k) {
  switch (k) {
    case BaseKind::kDebian:
      return "debian";
    case BaseKind::kNix:
      return "nix";
    case BaseKind::kOci:
      return "oci";
  }
  return "?";
}
const char* restart_policy_name(RestartPolicy v) { return spelling(v, kRestartPolicies); }
std::optional<RestartPolicy> parse_restart_policy(std::string_view s) {
  for (const auto& sp : kRestartPolicies)
    if (sp.text == s) return sp.value;
  return std::nullopt;
}
const char* network_mode_name(NetworkMode v) { return spelling(v, kNetworkModes); }
const char* workspace_mode_name(WorkspaceMode v) { return spelling(v, kWorkspaceModes); }
const char* backend_choice_name(BackendChoice v) { return spelling(v, kBackendChoices); }

Result<WorkloadSpec> parse_workload_spec(std::string_view text, const std::string& display_name) {
  SpecCheck c = check_workload_spec(text, display_name);
  if (c.ok()) return std::move(c.spec);
  std::string lines;
  for (const auto& d : c.diagnostics) lines += (lines.empty() ? "" : "\n") + d.text();
  return make_error(std::move(lines));
}

Result<WorkloadSpec> load_workload_spec(const std::string& path) {
  // O_NONBLOCK: a FIFO planted as hull.toml must not hang us before the
  // regular-file check.
  HULL_ASSIGN(UniqueFd fd, sys::open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) return sys_error("stat " + path);
  if (!S_ISREG(st.st_mode)) return make_error("read " + path, "not a regular file");
  if (static_cast<uint64_t>(st.st_size) > kMaxSpecBytes)
    return make_error("read " + path, "larger than " + std::to_string(kMaxSpecBytes) + " bytes");
  std::string text;
  std::byte buf[8192];
  for (;;) {
    HULL_ASSIGN(size_t n, sys::read_some(fd.get(), buf));
    if (n == 0) break;
    if (text.size() + n > kMaxSpecBytes)
      return make_error("read " + path, "larger than " + std::to_string(kMaxSpecBytes) + " bytes");
    text.append(reinterpret_cast<const char*>(buf), n);
  }
  return parse_workload_spec(text, path);
}

std::string canonical_json(const WorkloadSpec& spec) {
  using nlohmann::json;
  const ImageSection& img = spec.image;
  json base = {{"kind", base_kind_name(img.base.kind)}};
  switch (img.base.kind) {
    case BaseKind::kDebian:
      base["suite"] = img.base.suite;
      break;
    case BaseKind::kNix:
      base["flake_ref"] = img.base.flake_ref;
      base["attr"] = img.base.attr;
      break;
    case BaseKind::kOci:
      base["ref"] = img.base.ref;
      break;
  }
  // Packages are a set (apt installs them together): sorted.
  std::vector<std::string> packages = img.packages;
  std::sort(packages.begin(), packages.end());
  json files = json::array();
  for (const auto& f : img.files) {
    json mode = nullptr;
    if (f.mode) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "%04o", *f.mode & 07777u);
      mode = buf;
    }
    files.push_back({{"src", f.src}, {"dst", f.dst}, {"mode", mode}});
  }
  json health = nullptr;
  if (spec.health)
    health = {{"cmd", spec.health->cmd},
              {"interval_ms", spec.health->interval_ms},
              {"timeout_ms", spec.health->timeout_ms},
              {"retries", spec.health->retries}};
  // Services are named and unique: sorted by name, so their order is not meaning.
  std::vector<const Service*> services;
  for (const auto& s : spec.services) services.push_back(&s);
  std::sort(services.begin(), services.end(),
            [](const Service* a, const Service* b) { return a->name < b->name; });
  json service_list = json::array();
  for (const Service* s : services)
    service_list.push_back(
        {{"name", s->name}, {"cmd", s->cmd}, {"restart", restart_policy_name(s->restart)}});
  const SandboxDefaults& sb = spec.sandbox;
  json canon = {
      {"what", "hull-workload-spec"},
      {"version", kCanonicalVersion},
      {"image",
       {{"base", base},
        {"packages", packages},
        {"files", files},
        {"env", img.env},
        {"workdir", img.workdir},
        {"user", img.user},
        {"cmd", img.cmd}}},
      {"health", health},
      {"services", service_list},
      {"sandbox",
       {{"cpus", or_null(sb.cpus)},
        {"memory_bytes", or_null(sb.memory_bytes)},
        {"disk_bytes", or_null(sb.disk_bytes)},
        {"pids", or_null(sb.pids)},
        {"network", network_mode_name(sb.network)},
        {"workspace", workspace_mode_name(sb.workspace)},
        {"backend", backend_choice_name(sb.backend)}}},
  };
  return canon.dump();
}

std::string spec_digest(const WorkloadSpec& spec) { return sha256_hex(canonical_json(spec)); }

}  // namespace hull::image
