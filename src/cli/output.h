// Output formats shared by the read commands: aligned tables for people,
// JSON (--json) for scripts. Data goes to stdout; errors never do.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hull::cli {

// First row is the header; columns padded to the widest cell.
void print_table(const std::vector<std::vector<std::string>>& rows);
void print_json(const nlohmann::json& j);
// "key: value" lines with keys aligned, for `hull inspect` / `hull doctor`.
void print_fields(const std::vector<std::pair<std::string, std::string>>& fields);

// argv as a shell would show it (quoted where needed), cut to max_len.
std::string display_command(const std::vector<std::string>& argv, size_t max_len = 0);
// 2 GiB, 512 MiB, or the bytes when neither divides it: a size as written.
std::string exact_size(uint64_t bytes);
// "2024-05-01T10:00:00Z" → "3 minutes ago"; the input itself if unparsable.
std::string relative_time(const std::string& rfc3339);

}  // namespace hull::cli
