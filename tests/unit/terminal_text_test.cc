// What hull prints of a sandbox's text on a terminal: no control bytes, no
// escape sequences (7- or 8-bit), no bidi overrides; real text unchanged.
#include "base/terminal_text.h"

#include <gtest/gtest.h>

#include <string>

namespace hull {
namespace {

TEST(TerminalText, PrintableAsciiAndUtf8PassUnchanged) {
  EXPECT_EQ(terminal_safe("hello, world\t42\n"), "hello, world\t42\n");
  EXPECT_EQ(terminal_safe("gr\xC3\xBC\xC3\x9F" "e \xE2\x9C\x93 \xF0\x9F\x99\x82"), "gr\xC3\xBC\xC3\x9F" "e \xE2\x9C\x93 \xF0\x9F\x99\x82");
}

TEST(TerminalText, EscapeSequencesAndControlBytesBecomeQuestionMarks) {
  EXPECT_EQ(terminal_safe("\x1b]0;pwned\x07title"), "?]0;pwned?title");
  EXPECT_EQ(terminal_safe("\x1b[2Jclear"), "?[2Jclear");
  EXPECT_EQ(terminal_safe("a\rb\bc\x7f"), "a?b?c?");
  EXPECT_EQ(terminal_safe("line\nnext", Newlines::kReplace), "line?next");
}

TEST(TerminalText, C1ControlsAreRefusedRawAndUtf8Encoded) {
  EXPECT_EQ(terminal_safe("\x9b" "31m"), "?31m");          // 8-bit CSI
  EXPECT_EQ(terminal_safe("\xC2\x9B" "31m"), "?31m");      // U+009B as UTF-8
}

TEST(TerminalText, BidiOverridesAreNotShownAsThemselves) {
  EXPECT_EQ(terminal_safe("a\xE2\x80\xAE" "b"), "a?b");      // U+202E RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(terminal_safe("a\xE2\x81\xA6" "b"), "a?b");      // U+2066 LEFT-TO-RIGHT ISOLATE
}

TEST(TerminalText, MalformedUtf8IsReplacedByteByByte) {
  EXPECT_EQ(terminal_safe("\xC0\xAF"), "??");               // overlong '/'
  EXPECT_EQ(terminal_safe("\xED\xA0\x80"), "???");          // surrogate
  EXPECT_EQ(terminal_safe("\xE2\x9C"), "??");               // cut off at the end
  EXPECT_EQ(terminal_safe("\xFF" "ok"), "?ok");
}

TEST(TerminalText, AStreamFilterJoinsACharacterSplitAcrossChunks) {
  TerminalFilter f;
  std::string out = f.feed("ok \xE2");
  out += f.feed("\x9C");
  out += f.feed("\x93 \x1b[0m");
  out += f.finish();
  EXPECT_EQ(out, "ok \xE2\x9C\x93 ?[0m");
  TerminalFilter cut;
  std::string o = cut.feed("x\xF0\x9F");
  o += cut.finish();
  EXPECT_EQ(o, "x??");
}

}  // namespace
}  // namespace hull
