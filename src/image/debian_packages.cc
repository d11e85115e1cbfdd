#include "image/debian_packages.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <tuple>

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

namespace {

bool same_field(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// '\n'-separated lines, numbered from 1.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}
  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    line = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    ++number_;
    return true;
  }
  size_t number() const { return number_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  size_t number_ = 0;
};

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

// Hand-written: the fields are four plain "Key: value" lines of a format
// Debian's own tools define; no packaged C++ deb822 reader exists, and
// running dpkg-query on the host would parse sandbox-written bytes with a
// tool not built for hostile input.
Result<std::vector<DebPackage>> parse_dpkg_status(std::string_view text) {
  std::vector<DebPackage> out;
  DebPackage cur;
  std::string status;
  bool in_stanza = false;
  size_t stanza_line = 0;
  auto flush = [&]() -> Status {
    if (!in_stanza) return ok_status();
    in_stanza = false;
    const std::string where = "stanza at line " + std::to_string(stanza_line);
    if (cur.name.empty()) return make_error("read the dpkg database", where + " has no Package");
    if (status == "install ok installed") {
      if (!valid_package_name(cur.name) || !valid_package_version(cur.version) || !valid_architecture(cur.arch))
        return make_error("read the dpkg database",
                          where + ": bad Package/Version/Architecture for '" + cur.name.substr(0, 80) + "'");
      out.push_back(cur);
    }
    cur = DebPackage{};
    status.clear();
    return ok_status();
  };
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    const size_t lineno = lines.number();
    if (trimmed(line).empty()) {
      HULL_TRY(flush());
      continue;
    }
    if (!in_stanza) {
      in_stanza = true;
      stanza_line = lineno;
    }
    if (line.front() == ' ' || line.front() == '\t') continue;  // a continuation (Description, Conffiles)
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos)
      return make_error("read the dpkg database", "line " + std::to_string(lineno) + " is not 'Field: value'");
    const std::string_view key = line.substr(0, colon);
    const std::string value(trimmed(line.substr(colon + 1)));
    if (same_field(key, "Package")) cur.name = value;
    else if (same_field(key, "Version")) cur.version = value;
    else if (same_field(key, "Architecture")) cur.arch = value;
    else if (same_field(key, "Status")) status = value;
  }
  HULL_TRY(flush());
  std::sort(out.begin(), out.end(), [](const DebPackage& a, const DebPackage& b) {
    return std::tie(a.name, a.arch) < std::tie(b.name, b.arch);
  });
  for (size_t i = 1; i < out.size(); ++i)
    if (out[i].name == out[i - 1].name && out[i].arch == out[i - 1].arch)
      return make_error("read the dpkg database", out[i].name + ":" + out[i].arch + " is listed twice");
  return out;
}

Result<std::vector<DebPackage>> parse_apt_simulation(std::string_view text) {
  std::map<std::string, DebPackage> by_name;
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    const size_t lineno = lines.number();
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
