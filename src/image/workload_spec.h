// hull.toml: the declarative workload spec a user keeps next to their code
// (what image to build, how to run it, its services, health check and the
// sandbox defaults for `hull run`). The file format, every key, its type,
// default and meaning: docs/hull-toml.md.
//
// The file is untrusted input parsed once, here, into typed values: TOML via
// toml++, then a strict schema walk. Unknown keys (at any level) and wrong
// types are errors, never ignored. Every problem is collected, with the file
// name, line and column ("hull.toml:12:3: unknown key "pakages" in [image]
// (did you mean "packages"?)"), sorted by position, and returned together.
//
// Usage:
//   1. load_workload_spec("hull.toml") (or parse_workload_spec(text)).
//   2. On error, print error().message(): one problem per line.
//   3. spec_digest(spec) names the spec: equal for two spellings of the same
//      spec (key order, whitespace, defaults written out or left implicit).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace hull::image {

// ---- what the file says ----

enum class BaseKind { kDebian, kNix, kOci };

// [image] base: "debian:<suite>", "nix:<flake-ref>#<attr>" or "oci:<ref>".
struct ImageBase {
  BaseKind kind = BaseKind::kDebian;
  std::string suite;      // kDebian: "bookworm" | "trixie"
  std::string flake_ref;  // kNix: before the first '#', e.g. "github:owner/repo"
  std::string attr;       // kNix: after it, e.g. "packages.x86_64-linux.default"
  std::string ref;        // kOci: "name[:tag][@sha256:<hex>]" or "sha256:<hex>"
};

// One [[image.files]] entry: project file/dir `src` copied to `dst` in the image.
struct FileCopy {
  std::string src;               // relative to the project dir, normalised, no ".."
  std::string dst;               // absolute in the image, normalised, no ".."
  std::optional<uint32_t> mode;  // permission bits; nullopt keeps the source's
};

struct ImageSection {
  ImageBase base;
  std::vector<std::string> packages;  // "name" or "name=version"; debian only
  std::vector<FileCopy> files;        // applied in the written order
  std::map<std::string, std::string> env;
  std::string workdir = "/";
  std::string user = "root";     // a user name, or "uid" / "uid:gid"
  std::vector<std::string> cmd;  // empty: no default command
};

struct HealthCheck {
  std::vector<std::string> cmd;  // never empty
  uint32_t interval_ms = 30'000;
  uint32_t timeout_ms = 5'000;
  uint32_t retries = 3;  // >= 1
};

enum class RestartPolicy { kNo, kOnFailure, kAlways };

struct Service {
  std::string name;              // ^[a-z0-9][a-z0-9-]{0,62}$, unique in the file
  std::vector<std::string> cmd;  // never empty
  RestartPolicy restart = RestartPolicy::kNo;
};

enum class NetworkMode { kNone, kProxy };
enum class WorkspaceMode { kReadWrite, kReadOnly, kNone };
enum class BackendChoice { kAuto, kMicrovm, kNamespace };

// Defaults for `hull run`; unset limits leave hull run's own defaults.
struct SandboxDefaults {
  std::optional<double> cpus;
  std::optional<uint64_t> memory_bytes;
  std::optional<uint64_t> disk_bytes;
  std::optional<uint32_t> pids;
  NetworkMode network = NetworkMode::kNone;
  WorkspaceMode workspace = WorkspaceMode::kReadWrite;
  BackendChoice backend = BackendChoice::kAuto;
};

struct WorkloadSpec {
  ImageSection image;
  std::optional<HealthCheck> health;
  std::vector<Service> services;  // in the written order
  SandboxDefaults sandbox;
};

// ---- parsing ----

// One problem found in the file. text(): "hull.toml:12:3: <message>".
struct SpecDiagnostic {
  std::string file;
  uint32_t line = 0;    // 1-based
  uint32_t column = 0;  // 1-based
  std::string message;
  std::string text() const;
};

// The whole outcome: `spec` is meaningful only when `diagnostics` is empty.
struct SpecCheck {
  WorkloadSpec spec;
  std::vector<SpecDiagnostic> diagnostics;  // sorted by line, then column
  bool ok() const { return diagnostics.empty(); }
};

SpecCheck check_workload_spec(std::string_view text, const std::string& display_name = "hull.toml");
// check_workload_spec as a Result: the Error's message() is the diagnostics'
// text(), one per line.
Result<WorkloadSpec> parse_workload_spec(std::string_view text,
                                         const std::string& display_name = "hull.toml");
// Reads `path` (at most kMaxSpecBytes) and parses it; diagnostics name `path`.
Result<WorkloadSpec> load_workload_spec(const std::string& path);

// Compact JSON, keys sorted, every default filled in, packages sorted: two
// spellings of the same spec give the same bytes. Expects a parsed spec.
std::string canonical_json(const WorkloadSpec& spec);
// sha256 hex (64 digits) of canonical_json(spec).
std::string spec_digest(const WorkloadSpec& spec);

const char* base_kind_name(BaseKind k);            // "debian" | "nix" | "oci"
const char* restart_policy_name(RestartPolicy r);  // "no" | "on-failure" | "always"
std::optional<RestartPolicy> parse_restart_policy(std::string_view s);  // the names above
const char* network_mode_name(NetworkMode n);      // "none" | "proxy"
const char* workspace_mode_name(WorkspaceMode w);  // "rw" | "ro" | "none"
const char* backend_choice_name(BackendChoice b);  // "auto" | "microvm" | "namespace"

// ---- bounds (untrusted input: every length and count is capped) ----

inline constexpr size_t kMaxSpecBytes = 1u << 20;  // the whole file
// Lines are capped before toml++ sees the text: a dotted key or table header
// is one line, so this bounds how deep tables can nest (toml++ recurses, and
// ~30k levels overflow an 8 MiB stack).
inline constexpr size_t kMaxLineBytes = 4096;
inline constexpr size_t kMaxStringBytes = 4096;  // any one string value
inline constexpr size_t kMaxListItems = 1024;    // packages, files, env, a cmd's args
inline constexpr size_t kMaxServices = 64;
inline constexpr size_t kMaxDiagnostics = 100;  // then one "too many problems" line

}  // namespace hull::image
