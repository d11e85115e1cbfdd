// The guest console is written by the guest: judge_console must say what
// happened without letting its bytes reach the user's terminal raw.
#include "backend/microvm/console.h"

#include <gtest/gtest.h>

#include <string>

namespace hull::backend::microvm {
namespace {

TEST(MicrovmConsole, PanicIsTheSummaryAndTheTailEndsAtIt) {
  std::string log =
      "[    0.70] /dev/root: Can't open blockdev\n"
      "[    0.71] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\r\n"
      "[    0.72] CPU: 0 PID: 1 Comm: swapper/0\n"
      "[    0.73] Call Trace:\n";
  auto v = judge_console(log, false);
  EXPECT_EQ(v.summary, "guest kernel panicked: VFS: Unable to mount root fs on unknown-block(0,0)");
  ASSERT_EQ(v.tail.size(), 2u);
  EXPECT_EQ(v.tail[0], "[    0.70] /dev/root: Can't open blockdev");
  EXPECT_EQ(v.tail[1].find("Kernel panic"), 11u);
}

TEST(MicrovmConsole, AgentsLastWordsExplainAnEarlyShutdown) {
  auto v = judge_console("boot\nhull-agent: vm init: mount /dev/vda: EINVAL; shutting the VM down\n", false);
  EXPECT_EQ(v.summary, "guest agent stopped: vm init: mount /dev/vda: EINVAL; shutting the VM down");
  EXPECT_EQ(v.tail.size(), 2u);
}

TEST(MicrovmConsole, AFullLogIsCalledAFloodAndAQuietOneSaysNothing) {
  EXPECT_EQ(judge_console("x\n", true).summary, "guest flooded its console (log capped)");
  auto quiet = judge_console("", false);
  EXPECT_TRUE(quiet.summary.empty());
  EXPECT_TRUE(quiet.tail.empty());
}

TEST(MicrovmConsole, HostileBytesComeOutPrintableAndBounded) {
  // Terminal escapes (set title, clear screen), NULs, high bytes, a line
  // longer than anything the tail keeps, and far more lines than it keeps.
  std::string nasty = "\x1b]0;owned\x07\x1b[2J\xff\xfe";
  nasty += std::string(1, '\0');
  nasty += "Kernel panic - not syncing: \x1b[31mred\n";
  std::string log(100000, 'A');
  log += "\n" + nasty;
  for (int i = 0; i < 50; ++i) log += "line " + std::to_string(i) + "\n";
  auto v = judge_console(log, false);
  EXPECT_EQ(v.summary, "guest kernel panicked: ?[31mred");
  EXPECT_LE(v.tail.size(), kConsoleTailLines);
  for (const auto& l : v.tail) {
    EXPECT_LE(l.size(), kConsoleLineMax + 3);
    for (char c : l) EXPECT_TRUE(c == '\t' || (c >= 0x20 && c < 0x7f)) << static_cast<int>(c);
  }
  EXPECT_EQ(printable(std::string(500, 'x')).size(), kConsoleLineMax + 3);
}

}  // namespace
}  // namespace hull::backend::microvm
