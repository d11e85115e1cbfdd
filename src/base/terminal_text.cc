#include "base/terminal_text.h"

#include <cstdint>

namespace hull {

namespace {

// Length of the UTF-8 sequence a lead byte starts, 0 if it starts none.
size_t sequence_length(unsigned char lead) {
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// Decodes a complete sequence of `len` bytes; -1 when malformed (bad
// continuation, overlong, surrogate, past U+10FFFF).
int32_t decode(std::string_view s, size_t len) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  for (size_t i = 1; i < len; ++i)
    if ((b(i) & 0xC0) != 0x80) return -1;
  int32_t cp = len == 2 ? b(0) & 0x1F : len == 3 ? b(0) & 0x0F : b(0) & 0x07;
  for (size_t i = 1; i < len; ++i) cp = (cp << 6) | (b(i) & 0x3F);
  const int32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  return cp;
}

// C1 controls (8-bit CSI and friends) and the marks that reorder how text
// is shown (the "Trojan Source" characters) are not shown as themselves.
bool shown_as_is(int32_t cp) {
  if (cp < 0xA0) return false;
  if (cp == 0x061C || cp == 0x200E || cp == 0x200F) return false;
  if (cp >= 0x202A && cp <= 0x202E) return false;
  if (cp >= 0x2066 && cp <= 0x2069) return false;
  return true;
}

// Appends the safe form of `s` to `out`; returns how many bytes of `s` were
// used (less than s.size() only when it ends inside a UTF-8 character and
// `more_may_come`).
size_t filter(std::string_view s, Newlines newlines, bool more_may_come, std::string& out) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      const bool ok = (c >= 0x20 && c < 0x7F) || c == '\t' || (c == '\n' && newlines == Newlines::kKeep);
      out += ok ? static_cast<char>(c) : '?';
      ++i;
      continue;
    }
    const size_t len = sequence_length(c);
    if (len == 0) {
      out += '?';
      ++i;
      continue;
    }
    if (i + len > s.size()) {
      if (more_may_come) return i;
      out += '?';  // cut off at the end for good
      ++i;
      continue;
    }
    const int32_t cp = decode(s.substr(i, len), len);
    if (cp < 0) {
      out += '?';
      ++i;  // resynchronise on the next byte
      continue;
    }
    if (shown_as_is(cp)) {
      out.append(s.substr(i, len));
    } else {
      out += '?';
    }
    i += len;
  }
  return i;
}

}  // namespace

std::string terminal_safe(std::string_view text, Newlines newlines) {
  std::string out;
  out.reserve(text.size());
  filter(text, newlines, false, out);
  return out;
}

std::string TerminalFilter::feed(std::string_view chunk) {
  std::string in = pending_;
  in.append(chunk);
  std::string out;
  out.reserve(in.size());
  const size_t used = filter(in, newlines_, true, out);
  pending_ = in.substr(used);
  return out;
}

std::string TerminalFilter::finish() {
  std::string out;
  filter(pending_, newlines_, false, out);
  pending_.clear();
  return out;
}

}  // namespace hull
