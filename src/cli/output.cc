#include "cli/output.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "base/terminal_text.h"

namespace hull::cli {

void print_table(const std::vector<std::vector<std::string>>& raw_rows) {
  // Cells can hold sandbox text (a failed sandbox's error): never its escapes.
  std::vector<std::vector<std::string>> rows = raw_rows;
  for (auto& r : rows)
    for (auto& cell : r) cell = terminal_safe(cell, Newlines::kReplace);
  std::vector<size_t> width;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 3, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

void print_json(const nlohmann::json& j) { std::printf("%s\n", j.dump(2).c_str()); }

void print_fields(const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t w = 0;
  for (const auto& [k, v] : fields) w = std::max(w, k.size());
  for (const auto& [k, v] : fields)
    std::printf("%s:%s %s\n", k.c_str(), std::string(w - k.size(), ' ').c_str(),
                terminal_safe(v, Newlines::kReplace).c_str());  // values hold sandbox text (its error)
}

std::string display_command(const std::vector<std::string>& argv, size_t max_len) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`;&|<>*?()[]{}!#~") == std::string::npos;
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  if (max_len > 3 && out.size() > max_len) out = out.substr(0, max_len - 3) + "...";
  return out;
}

std::string relative_time(const std::string& rfc3339) {
  std::tm tm{};
  const char* end = ::strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) return rfc3339;
  std::time_t t = ::timegm(&tm);
  long d = static_cast<long>(std::difftime(std::time(nullptr), t));
  if (d < 0) d = 0;
  auto fmt = [](long n, const char* unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s") + " ago";
  };
  if (d < 60) return fmt(d, "second");
  if (d < 3600) return fmt(d / 60, "minute");
  if (d < 86400) return fmt(d / 3600, "hour");
  return fmt(d / 86400, "day");
}

std::string exact_size(uint64_t b) {
  if (b != 0 && b % (1ull << 30) == 0) return std::to_string(b >> 30) + " GiB";
  if (b != 0 && b % (1ull << 20) == 0) return std::to_string(b >> 20) + " MiB";
  return std::to_string(b) + " bytes";
}

}  // namespace hull::cli
