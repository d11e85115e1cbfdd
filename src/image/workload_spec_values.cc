// Value checks for hull.toml: names, paths, user ids, image references,
// size and duration strings, and the "did you mean" key suggestion. Each
// takes a string already bounded by the schema walk and says yes or no.
#include <charconv>

#include "base/units.h"
#include "image/workload_spec_internal.h"

namespace hull::image::spec_detail {

namespace {

// Optimal string alignment distance (Levenshtein plus adjacent swaps, so
// "imgae" is one edit from "image"), ignoring ASCII case ("CPUs" is "cpus").
// Only called on short keys.
size_t edit_distance(std::string_view a, std::string_view b) {
  auto same = [](char x, char y) {
    auto fold = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return fold(x) == fold(y);
  };
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = same(a[i - 1], b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1]))
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

// One path component of an OCI repository: [a-z0-9]+ joined by '.', '_',
// '__' or '-'s. The first component may also be a registry host[:port].
bool valid_oci_component(std::string_view s, bool first) {
  if (first) {
    size_t colon = s.find(':');
    if (colon != std::string_view::npos) {
      std::string_view port = s.substr(colon + 1);
      if (port.empty() || port.size() > 5 || !all_of(port, is_digit)) return false;
      s = s.substr(0, colon);
    }
  }
  if (s.empty() || !is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) return false;
  return all_of(s, [](char c) { return is_lower_alnum(c) || c == '.' || c == '_' || c == '-'; });
}

bool valid_oci_digest(std::string_view s) {
  return s.size() == 7 + 64 && s.substr(0, 7) == "sha256:" &&
         all_of(s.substr(7), [](char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); });
}

// A numeric uid or gid: decimal, below 2^32 - 1 (which means "none").
std::optional<uint32_t> parse_id(std::string_view s) {
  if (s.empty() || s.size() > 10 || !all_of(s, is_digit)) return std::nullopt;
  uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  if (v >= 0xffffffffu) return std::nullopt;
  return static_cast<uint32_t>(v);
}

}  // namespace

// A string from the file shown in a message: quoted, escaped, and cut at 64
// bytes (on a UTF-8 boundary) so a hostile value cannot flood the output.
std::string shown(std::string_view s) {
  constexpr size_t kShown = 64;
  size_t n = std::min(s.size(), kShown);
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  std::string out = "\"";
  for (char c : s.substr(0, n)) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  if (n < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

// The closest of `known` within 2 edits (and closer than rewriting it whole).
std::optional<std::string_view> closest(std::string_view key,
                                        std::initializer_list<std::string_view> known) {
  if (key.size() > 64) return std::nullopt;
  std::optional<std::string_view> best;
  size_t best_d = 3;
  for (std::string_view k : known) {
    size_t d = edit_distance(key, k);
    if (d < best_d && d < std::max(key.size(), k.size())) {
      best = k;
      best_d = d;
    }
  }
  return best;
}

// Sizes and durations: the grammar of `hull run --memory/--timeout`
// (base/units.h), except that a duration here must carry its unit.
std::optional<uint64_t> parse_size_text(std::string_view s) {
  auto r = parse_size(s);
  return r ? std::optional<uint64_t>(*r) : std::nullopt;
}

std::optional<uint32_t> parse_duration_text(std::string_view s) {
  auto r = parse_duration_ms(s, /*unit_required=*/true);
  return r ? std::optional<uint32_t>(*r) : std::nullopt;
}

// Splits on '/', dropping empty and "." parts; false when a part is "..".
bool path_parts(std::string_view p, std::vector<std::string_view>* parts) {
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view part = p.substr(i, j - i);
    if (part == "..") return false;
    if (!part.empty() && part != ".") parts->push_back(part);
    i = j + 1;
  }
  return true;
}

std::string join_parts(const std::vector<std::string_view>& parts, bool absolute) {
  std::string out;
  for (std::string_view part : parts) {
    if (absolute || !out.empty()) out += '/';
    out += part;
  }
  if (out.empty()) out = absolute ? "/" : ".";
  return out;
}

// Debian package name: ^[a-z0-9][a-z0-9+.-]+$ (Policy 5.6.1).
bool valid_package_name(std::string_view s) {
  return s.size() >= 2 && is_lower_alnum(s[0]) &&
         all_of(s, [](char c) { return is_lower_alnum(c) || c == '+' || c == '.' || c == '-'; });
}

// Debian version: [epoch:]upstream[-revision], starting with a digit.
bool valid_package_version(std::string_view s) {
  return !s.empty() && is_digit(s[0]) && all_of(s, [](char c) {
    return is_alpha(c) || is_digit(c) || c == '.' || c == '+' || c == '~' || c == '-' || c == ':';
  });
}

// "name[:tag][@sha256:<hex>]" or a bare "sha256:<hex>".
bool valid_oci_ref(std::string_view s) {
  if (valid_oci_digest(s)) return true;
  size_t at = s.find('@');
  if (at != std::string_view::npos) {
    if (!valid_oci_digest(s.substr(at + 1))) return false;
    s = s.substr(0, at);
  }
  size_t slash = s.rfind('/');
  size_t colon = s.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    std::string_view tag = s.substr(colon + 1);
    if (tag.empty() || tag.size() > 128 || tag[0] == '.' || tag[0] == '-' ||
        !all_of(tag, [](char c) {
          return is_alpha(c) || is_digit(c) || c == '_' || c == '.' || c == '-';
        }))
      return false;
    s = s.substr(0, colon);
  }
  if (s.empty() || s.size() > 255) return false;
  size_t i = 0;
  for (bool first = true;; first = false) {
    size_t j = s.find('/', i);
    if (!valid_oci_component(s.substr(i, j == std::string_view::npos ? j : j - i), first))
      return false;
    if (j == std::string_view::npos) return true;
    i = j + 1;
  }
}

// "name" (useradd's rule: [a-z_][a-z0-9_-]{0,31}) or "uid[:gid]", the
// numbers rewritten without leading zeros.
std::optional<std::string> normalise_user(std::string_view s) {
  if (!s.empty() && is_digit(s[0])) {
    size_t colon = s.find(':');
    auto uid = parse_id(s.substr(0, colon));
    if (!uid) return std::nullopt;
    std::string out = std::to_string(*uid);
    if (colon != std::string_view::npos) {
      auto gid = parse_id(s.substr(colon + 1));
      if (!gid) return std::nullopt;
      out += ":" + std::to_string(*gid);
    }
    return out;
  }
  if (s.empty() || s.size() > 32 || !(is_lower_alnum(s[0]) || s[0] == '_') || is_digit(s[0]))
    return std::nullopt;
  if (!all_of(s, [](char c) { return is_lower_alnum(c) || c == '_' || c == '-'; }))
    return std::nullopt;
  return std::string(s);
}

bool valid_env_name(std::string_view s) {
  return !s.empty() && (is_alpha(s[0]) || s[0] == '_') &&
         all_of(s, [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; });
}

bool valid_service_name(std::string_view s) {
  return !s.empty() && s.size() <= 63 && is_lower_alnum(s[0]) &&
         all_of(s, [](char c) { return is_lower_alnum(c) || c == '-'; });
}

}  // namespace hull::image::spec_detail
