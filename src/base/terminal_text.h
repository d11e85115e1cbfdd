// Text from a sandbox, made safe to print on the user's terminal.
//
// A hostile sandbox controls much of what hull prints: a program's output in
// `hull logs`, an error string the agent sends, a console line. Escape
// sequences in it could drive the user's terminal (retitle it, rewrite what
// is on screen, on some terminals answer back as typed input). So every byte
// that is not printable is shown as '?': C0 controls but tab (and newline
// where kept), DEL, ESC, C1 controls (also when UTF-8 encoded), bidi
// overrides that reorder what is shown, and malformed UTF-8. Printable
// ASCII and well-formed UTF-8 text pass unchanged.
//
//   fprintf(stderr, "%s", terminal_safe(reason).c_str());   // one string
//   TerminalFilter f; out(f.feed(chunk)); ... out(f.finish()); // a stream
#pragma once

#include <string>
#include <string_view>

namespace hull {

enum class Newlines { kKeep, kReplace };

std::string terminal_safe(std::string_view text, Newlines newlines = Newlines::kKeep);

// The same for a byte stream cut into chunks anywhere (a UTF-8 character
// may span two chunks).
class TerminalFilter {
 public:
  explicit TerminalFilter(Newlines newlines = Newlines::kKeep) : newlines_(newlines) {}
  std::string feed(std::string_view chunk);
  std::string finish();  // what an unfinished character at the end becomes

 private:
  Newlines newlines_;
  std::string pending_;  // at most 3 bytes of an incomplete UTF-8 character
};

}  // namespace hull
