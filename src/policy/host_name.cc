#include "policy/host_name.h"

#include <idn2.h>

#include <cstdlib>
#include <memory>

namespace hull::policy {

namespace {

constexpr size_t kMaxRawHost = 1024;  // bounds the IDNA work on hostile input
constexpr size_t kMaxLabel = 63;      // RFC 1035
constexpr size_t kMaxName = 253;      // RFC 1035, without the root dot

Error refused(std::string_view raw, std::string detail) {
  return make_error("host '" + std::string(raw.substr(0, 200)) + "'", std::move(detail));
}

// Step 1: one message per character a host never has, saying why it matters.
std::optional<std::string> forbidden_char(std::string_view raw) {
  for (char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '@':
        return "'@' (userinfo) is not allowed: give the host alone, e.g. example.com";
      case '\\':
        return "'\\' is not allowed (some clients read it as '/'): give the host alone";
      case '#':
        return "'#' (a fragment) is not allowed: give the host alone";
      case '/':
        return "'/' is not allowed: give the host alone, without a path";
      case '?':
        return "'?' is not allowed: give the host alone, without a query";
      case '%':
        return "'%' is not allowed (no percent-encoding or zone ids in a host)";
      case ':':
        return "':' is not allowed: pass the port apart, and write IPv6 in brackets ([::1])";
      default:
        break;
    }
    if (c <= 0x20 || c == 0x7f) return "spaces and control bytes are not allowed";
  }
  return std::nullopt;
}

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};

// Step 3: IDNA, label by label, only where a label has non-ASCII bytes.
Result<std::string> to_a_labels(std::string_view raw, std::string_view lowered) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t dot = lowered.find('.', start);
    std::string label(lowered.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (!is_ascii(label)) {
      char* converted = nullptr;
      int rc = idn2_to_ascii_8z(label.c_str(), &converted, IDN2_NONTRANSITIONAL);
      std::unique_ptr<char, FreeDeleter> owned(converted);
      if (rc != IDN2_OK) {
        return refused(raw, std::string("not a valid internationalised name (IDNA: ") +
                                idn2_strerror(rc) + "); write it in punycode (xn--...) instead");
      }
      label = converted;
    }
    out += label;
    if (dot == std::string_view::npos) return out;
    out += '.';
    start = dot + 1;
  }
}

// Step 6, on the A-label form.
std::optional<std::string> name_problem(std::string_view name) {
  if (name.empty()) return "the host is empty";
  if (name.size() > kMaxName) return "the name is over 253 bytes";
  size_t label_len = 0;
  for (char c : name) {
    if (c == '.') {
      if (label_len == 0) return "an empty label (\"..\" or a leading dot)";
      label_len = 0;
      continue;
    }
    const bool ldh = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ldh) {
      return std::string("character '") + c +
             "' is not allowed in a name (letters, digits, '-' and '_' only)";
    }
    if (++label_len > kMaxLabel) return "a label is over 63 bytes";
  }
  if (label_len == 0) return "an empty label (a name ends in \"..\")";
  return std::nullopt;
}

NormalizedHost address_host(const NetAddress& a) { return NormalizedHost{to_host_text(a), a}; }

}  // namespace

Result<NormalizedHost> normalize_host(std::string_view raw) {
  if (raw.empty()) return refused(raw, "the host is empty");
  if (raw.size() > kMaxRawHost) return refused(raw, "over 1024 bytes; no host is that long");
  if (raw.front() == '[') {
    // Before the character check: an IPv6 literal has ':' and its own
    // error for a zone id.
    HULL_ASSIGN(auto literal, parse_ip_literal(raw));
    if (!literal || literal->is_v4())
      return refused(raw, "brackets hold an IPv6 address, e.g. [2001:db8::1]");
    return address_host(*literal);
  }
  if (auto why = forbidden_char(raw)) return refused(raw, *why);

  std::string lowered(raw);
  for (char& c : lowered) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  HULL_ASSIGN(std::string name, to_a_labels(raw, lowered));
  if (!name.empty() && name.back() == '.') name.pop_back();
  // IDNA maps some non-ASCII to ASCII punctuation (fullwidth '／' to '/').
  if (auto why = forbidden_char(name)) return refused(raw, *why + " (after IDNA mapping)");
  if (!name.empty() && name.back() == '.')
    return refused(raw, "an empty label (a name ends in \"..\")");

  auto literal = parse_ip_literal(name);
  if (!literal) {
    return refused(
        raw, "written as an IPv4 address but not a valid one (" + literal.error().detail + ")");
  }
  if (*literal) return address_host(**literal);

  if (auto why = name_problem(name)) return refused(raw, *why);
  return NormalizedHost{name, std::nullopt};
}

}  // namespace hull::policy
