#include "policy/egress_path.h"

#include <vector>

namespace hull::policy {

namespace {

constexpr size_t kMaxPath = 8192;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool has_dot_segment(std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view seg =
        path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (seg == "." || seg == "..") return true;
    if (slash == std::string_view::npos) return false;
    start = slash + 1;
  }
  return false;
}

// Shared by requests and patterns; `pattern` keeps '*' as the wildcard and
// refuses a query, a request drops its query.
Result<std::string> canonicalize(std::string_view s, bool pattern) {
  const std::string op = std::string(pattern ? "path pattern '" : "request path '") +
                         std::string(s.substr(0, 200)) + "'";
  if (s.size() > kMaxPath) return make_error(op, "over 8 KiB");
  if (s.empty() || s.front() != '/') return make_error(op, "a path starts with '/', e.g. /repos/*");
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const auto byte = static_cast<unsigned char>(c);
    if (c == '?') {
      if (pattern)
        return make_error(op, "a rule matches the path only: drop the '?' and the query");
      break;
    }
    if (byte <= 0x20 || byte >= 0x7f || c == '\\' || c == '#') {
      return make_error(op,
                        "spaces, control or non-ASCII bytes, '\\' and '#' are refused in a path; "
                        "percent-encode them");
    }
    if (c == '%') {
      if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0) {
        return make_error(op, "a '%' not followed by two hex digits");
      }
      const char decoded = static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
      if (decoded == '/' || decoded == '\\') {
        return make_error(op,
                          "an escaped '/' or '\\' (%2F, %5C) is refused: servers disagree on it");
      }
      if (unreserved(decoded)) {
        out += decoded;
      } else {
        static constexpr char kHex[] = "0123456789ABCDEF";
        const auto v = static_cast<unsigned char>(decoded);
        out += '%';
        out += kHex[v >> 4];
        out += kHex[v & 15];
      }
      continue;
    }
    if (c == '/' && !out.empty() && out.back() == '/')
      continue;  // "//" reads as "/" on most servers
    out += c;
  }
  if (has_dot_segment(out)) {
    return make_error(op, "a '.' or '..' segment is refused: send the path resolved");
  }
  if (pattern && out.find("**") != std::string::npos) {
    return make_error(op,
                      "'**' is refused: '*' already matches any run of characters, '/' included");
  }
  return out;
}

// Tokens: a byte to match itself, or one of these.
constexpr int kAnyOne = -1;  // exactly one character
constexpr int kAnyRun = -2;  // zero or more characters

std::vector<int> tokens(std::string_view pattern, bool open_tail) {
  std::vector<int> t;
  for (char c : pattern) {
    if (c == '*') {
      t.push_back(kAnyOne);  // '*' is one or more: one, then any run
      t.push_back(kAnyRun);
    } else {
      t.push_back(static_cast<unsigned char>(c));
    }
  }
  if (open_tail) {
    t.push_back('/');
    t.push_back(kAnyRun);
  }
  return t;
}

// The classic wildcard match with one backtrack point: O(|t| * |s|), both
// bounded by kMaxPath.
bool glob(const std::vector<int>& t, std::string_view s) {
  size_t p = 0, i = 0, star_p = std::string_view::npos, star_i = 0;
  while (i < s.size()) {
    if (p < t.size() && (t[p] == kAnyOne || t[p] == static_cast<unsigned char>(s[i]))) {
      ++p;
      ++i;
    } else if (p < t.size() && t[p] == kAnyRun) {
      star_p = p++;
      star_i = i;
    } else if (star_p != std::string_view::npos) {
      p = star_p + 1;
      i = ++star_i;
    } else {
      return false;
    }
  }
  while (p < t.size() && t[p] == kAnyRun) ++p;
  return p == t.size();
}

}  // namespace

Result<std::string> canonical_request_path(std::string_view target) {
  return canonicalize(target, false);
}

Result<std::string> canonical_path_pattern(std::string_view pattern) {
  return canonicalize(pattern, true);
}

bool path_matches(std::string_view pattern, std::string_view path) {
  if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == "/*") {
    std::string_view prefix = pattern.substr(0, pattern.size() - 2);
    return glob(tokens(prefix, false), path) || glob(tokens(prefix, true), path);
  }
  return glob(tokens(pattern, false), path);
}

}  // namespace hull::policy
