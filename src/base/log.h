// Operator logs (spdlog). Not for audit records, which never go through here.
// Every line from a supervisor is prefixed with the sandbox id (set_prefix).
#pragma once

#include <spdlog/spdlog.h>

#include <cstddef>
#include <string>

namespace hull::log {

// HULL_LOG=debug|info|warn|error (default warn for the CLI, info elsewhere).
void init(const std::string& component, const std::string& default_level = "warn");
// Supervisors are detached: from now on, log to `path` instead of stderr.
// At most `max_bytes` are kept there: past it the file moves to NAME.1.EXT
// (supervisor.1.log, replacing an older one) and a new one starts, so a sandbox that makes its supervisor log without end
// costs at most twice that on disk, and the latest lines are kept.
void to_file(const std::string& path, size_t max_bytes = 4u << 20);
void set_prefix(const std::string& prefix);  // e.g. the sandbox name

template <class... A>
void debug(spdlog::format_string_t<A...> f, A&&... a) { spdlog::debug(f, std::forward<A>(a)...); }
template <class... A>
void info(spdlog::format_string_t<A...> f, A&&... a) { spdlog::info(f, std::forward<A>(a)...); }
template <class... A>
void warn(spdlog::format_string_t<A...> f, A&&... a) { spdlog::warn(f, std::forward<A>(a)...); }
template <class... A>
void error(spdlog::format_string_t<A...> f, A&&... a) { spdlog::error(f, std::forward<A>(a)...); }

}  // namespace hull::log
