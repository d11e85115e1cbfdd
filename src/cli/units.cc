// Human units on the command line: sizes ("512m", "2g") and durations
// ("30s", "5m", "1h"), plus the one-line error printer every command uses.
#include <cctype>
#include <cstdio>
#include <limits>

#include "cli/commands.h"

namespace hull::cli {

int fail(const std::string& what, const std::string& next) {
  std::string line = "hull: " + what;
  if (!next.empty()) line += " — " + next;
  std::fprintf(stderr, "%s\n", line.c_str());
  return kExitHullError;
}

int fail(const Error& e) { return fail(e.message()); }

namespace {
// Splits "512m" into 512 and "m"; false when there is no leading number.
bool split_number(const std::string& s, double* num, std::string* unit) {
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return false;
  try {
    *num = std::stod(s.substr(0, i));
  } catch (...) {
    return false;
  }
  unit->clear();
  for (size_t j = i; j < s.size(); ++j) unit->push_back(static_cast<char>(std::tolower(s[j])));
  return *num >= 0;
}
}  // namespace

Result<uint64_t> parse_size(const std::string& s) {
  double n = 0;
  std::string unit;
  if (!split_number(s, &n, &unit)) return make_error("bad size '" + s + "'", "use e.g. 512m or 2g");
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();  // "512mb"
  if (!unit.empty() && unit.back() == 'i') unit.pop_back();  // "512mi"
  double mult = 1;
  if (unit.empty()) mult = 1;
  else if (unit == "k") mult = 1024.0;
  else if (unit == "m") mult = 1024.0 * 1024;
  else if (unit == "g") mult = 1024.0 * 1024 * 1024;
  else if (unit == "t") mult = 1024.0 * 1024 * 1024 * 1024;
  else return make_error("bad size '" + s + "'", "use a k, m, g or t suffix, e.g. 512m");
  double bytes = n * mult;
  if (bytes < 1 || bytes > static_cast<double>(std::numeric_limits<uint64_t>::max() / 2))
    return make_error("bad size '" + s + "'", "out of range");
  return static_cast<uint64_t>(bytes);
}

Result<uint32_t> parse_duration_ms(const std::string& s) {
  double n = 0;
  std::string unit;
  if (!split_number(s, &n, &unit)) return make_error("bad duration '" + s + "'", "use e.g. 30s, 5m or 1h");
  double mult = 0;
  if (unit.empty() || unit == "s") mult = 1000;
  else if (unit == "ms") mult = 1;
  else if (unit == "m") mult = 60'000;
  else if (unit == "h") mult = 3'600'000;
  else return make_error("bad duration '" + s + "'", "use an ms, s, m or h suffix, e.g. 30s");
  double ms = n * mult;
  if (ms < 1 || ms > static_cast<double>(std::numeric_limits<uint32_t>::max()))
    return make_error("bad duration '" + s + "'", "must be between 1ms and about 49 days");
  return static_cast<uint32_t>(ms);
}

}  // namespace hull::cli
