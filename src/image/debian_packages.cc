#include "image/debian_packages.h"

#include <algorithm>
#include <map>

// Parsing only, no I/O (that is debian_repo.cc), so it can be fuzzed alone.
namespace hull::image {

namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }

constexpr size_t kMaxField = 200;

}  // namespace

bool valid_package_name(std::string_view s) {
  if (s.size() < 2 || s.size() > kMaxField || !is_lower_alnum(s[0])) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return is_lower_alnum(c) || c == '+' || c == '-' || c == '.'; });
}

bool valid_package_version(std::string_view s) {
  if (s.empty() || s.size() > kMaxField || !(s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return is_alnum(c) || c == '.' || c == '+' || c == '-' || c == '~' || c == ':';
  });
}

bool valid_architecture(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_lower_alnum(c) || c == '-'; });
}

std::string pinned(const DebPackage& p) { return p.name + "=" + p.version; }

Result<std::vector<DebPackage>> parse_apt_simulation(std::string_view text) {
  std::map<std::string, DebPackage> by_name;
  size_t pos = 0;
  size_t lineno = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++lineno;
    if (!line.starts_with("Inst ")) continue;
    auto bad = [&](const char* why) {
      return make_error("read apt's plan", "line " + std::to_string(lineno) + ": " + why + ": '" +
                                               std::string(line.substr(0, 160)) + "'");
    };
    // Inst NAME [OLDVER] (VERSION ORIGIN... [ARCH]) [extra]
    std::string_view rest = line.substr(5);
    const size_t sp = rest.find(' ');
    if (sp == std::string_view::npos) return bad("no version");
    DebPackage p;
    p.name = std::string(rest.substr(0, sp));
    const size_t open = rest.find('(', sp);
    const size_t close = rest.find(')', open == std::string_view::npos ? sp : open);
    if (open == std::string_view::npos || close == std::string_view::npos) return bad("no (version)");
    std::string_view inner = rest.substr(open + 1, close - open - 1);
    const size_t vsp = inner.find(' ');
    p.version = std::string(inner.substr(0, vsp));
    const size_t lb = inner.rfind('[');
    const size_t rb = inner.rfind(']');
    if (lb == std::string_view::npos || rb == std::string_view::npos || rb < lb) return bad("no [arch]");
    p.arch = std::string(inner.substr(lb + 1, rb - lb - 1));
    // apt shows multi-arch names as name:arch; keep the bare name.
    if (auto colon = p.name.find(':'); colon != std::string::npos) p.name.resize(colon);
    if (!valid_package_name(p.name)) return bad("bad package name");
    if (!valid_package_version(p.version)) return bad("bad version");
    if (!valid_architecture(p.arch)) return bad("bad architecture");
    auto [it, inserted] = by_name.emplace(p.name, p);
    if (!inserted && it->second.version != p.version)
      return make_error("read apt's plan", "package " + p.name + " appears with two versions (" +
                                               it->second.version + ", " + p.version + ")");
  }
  std::vector<DebPackage> out;
  out.reserve(by_name.size());
  for (auto& [_, p] : by_name) out.push_back(std::move(p));
  return out;
}

}  // namespace hull::image
