// Internal to the image module: declarations shared by workload_spec.cc,
// workload_spec_values.cc and workload_spec_schema.cc. Not a public header.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/workload_spec.h"

namespace hull::image::spec_detail {

// ---- small text helpers ----

inline bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// Printable ASCII other than space: what refs and attrs may contain.
inline bool is_graph(char c) { return c > ' ' && c < 0x7f; }

template <class Pred>
bool all_of(std::string_view s, Pred p) {
  return std::all_of(s.begin(), s.end(), p);
}

// ---- value checks (workload_spec_values.cc) ----

// `s` quoted and escaped for a message, cut at 64 bytes.
std::string shown(std::string_view s);
// The closest of `known` within 2 edits, for "did you mean" hints.
std::optional<std::string_view> closest(std::string_view key,
                                        std::initializer_list<std::string_view> known);
// base/units.h's size and duration grammars; a duration must carry its unit.
std::optional<uint64_t> parse_size_text(std::string_view s);
std::optional<uint32_t> parse_duration_text(std::string_view s);
// Splits on '/', dropping empty and "." parts; false when a part is "..".
bool path_parts(std::string_view p, std::vector<std::string_view>* parts);
// `parts` joined with '/'; "/" or "." when empty.
std::string join_parts(const std::vector<std::string_view>& parts, bool absolute);
bool valid_package_name(std::string_view s);     // Debian package name
bool valid_package_version(std::string_view s);  // Debian version
bool valid_oci_ref(std::string_view s);          // "name[:tag][@sha256:<hex>]" or "sha256:<hex>"
// A user name, or "uid[:gid]" without leading zeros; nullopt when invalid.
std::optional<std::string> normalise_user(std::string_view s);
bool valid_env_name(std::string_view s);      // [A-Za-z_][A-Za-z0-9_]*
bool valid_service_name(std::string_view s);  // [a-z0-9][a-z0-9-]{0,62}

// ---- closed sets spelled in the file: one table each ----

template <class E>
struct Spelling {
  std::string_view text;
  E value;
};
inline constexpr Spelling<RestartPolicy> kRestartPolicies[] = {
    {"no", RestartPolicy::kNo},
    {"on-failure", RestartPolicy::kOnFailure},
    {"always", RestartPolicy::kAlways}};
inline constexpr Spelling<NetworkMode> kNetworkModes[] = {{"none", NetworkMode::kNone},
                                                          {"proxy", NetworkMode::kProxy}};
inline constexpr Spelling<WorkspaceMode> kWorkspaceModes[] = {{"rw", WorkspaceMode::kReadWrite},
                                                              {"ro", WorkspaceMode::kReadOnly},
                                                              {"none", WorkspaceMode::kNone}};
inline constexpr Spelling<BackendChoice> kBackendChoices[] = {
    {"auto", BackendChoice::kAuto},
    {"microvm", BackendChoice::kMicrovm},
    {"namespace", BackendChoice::kNamespace}};

}  // namespace hull::image::spec_detail
