#include "base/units.h"

#include <charconv>
#include <limits>
#include <string>

namespace hull {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Splits "512m" into 512 and "m" (lower-cased); false without a leading number.
bool split_number(std::string_view s, double* num, std::string* unit) {
  size_t i = 0;
  while (i < s.size() && (is_digit(s[i]) || s[i] == '.')) ++i;
  if (i == 0 || !is_digit(s[0])) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + i, *num);
  if (ec != std::errc() || end != s.data() + i || *num < 0) return false;
  unit->clear();
  for (char c : s.substr(i)) unit->push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  return true;
}

}  // namespace

Result<uint64_t> parse_size(std::string_view s) {
  const std::string shown(s);
  double n = 0;
  std::string unit;
  if (!split_number(s, &n, &unit)) return make_error("bad size '" + shown + "'", "use e.g. 512m or 2g");
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();  // "512mb"
  if (!unit.empty() && unit.back() == 'i') unit.pop_back();  // "512mi"
  double mult = 0;
  if (unit.empty()) mult = 1;
  else if (unit == "k") mult = 1024.0;
  else if (unit == "m") mult = 1024.0 * 1024;
  else if (unit == "g") mult = 1024.0 * 1024 * 1024;
  else if (unit == "t") mult = 1024.0 * 1024 * 1024 * 1024;
  else return make_error("bad size '" + shown + "'", "use a k, m, g or t suffix, e.g. 512m");
  const double bytes = n * mult;
  if (!(bytes >= 1) || bytes > static_cast<double>(std::numeric_limits<uint64_t>::max() / 2))
    return make_error("bad size '" + shown + "'", "out of range");
  return static_cast<uint64_t>(bytes);
}

Result<uint32_t> parse_duration_ms(std::string_view s, bool unit_required) {
  const std::string shown(s);
  double n = 0;
  std::string unit;
  if (!split_number(s, &n, &unit)) return make_error("bad duration '" + shown + "'", "use e.g. 30s, 5m or 1h");
  double mult = 0;
  if (unit.empty() && !unit_required) mult = 1000;
  else if (unit == "s") mult = 1000;
  else if (unit == "ms") mult = 1;
  else if (unit == "m") mult = 60'000;
  else if (unit == "h") mult = 3'600'000;
  else return make_error("bad duration '" + shown + "'", "use an ms, s, m or h suffix, e.g. 30s");
  const double ms = n * mult;
  if (!(ms >= 1) || ms > static_cast<double>(std::numeric_limits<uint32_t>::max()))
    return make_error("bad duration '" + shown + "'", "must be between 1ms and about 49 days");
  return static_cast<uint32_t>(ms);
}

}  // namespace hull
