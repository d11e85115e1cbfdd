// A sandbox must not drive the user's terminal through what hull prints of
// its text: escape sequences in a detached command's output (hull logs on a
// terminal) or in an error (hull exec of a name it chose) arrive as '?'.
// The program's own stdout through `hull exec`/`run` stays untouched: the
// user asked to see it, as with docker exec.
#include <string>

#include "../integration/cli_harness.h"

namespace hull::testing {
namespace {

class CliHostileTerminal : public CliTest {};

constexpr const char* kNasty = "printf '\\033]0;pwned\\007\\033[2Jvisible \\233 31m\\n'";

TEST_F(CliHostileTerminal, LogsOnATerminalShowNoEscapeSequencesOfTheSandbox) {
  HULL_REQUIRE_IMAGE();
  ASSERT_EQ(run_hull({"run", "-d", "--name", "t", "--", "sh", "-c", kNasty}).exit_code, 0);
  ASSERT_FALSE(wait_until_final("t", 120).is_null());
  auto tty = run_hull_in_pty({"logs", "t"});
  EXPECT_EQ(tty.exit_code, 0) << tty.out;
  EXPECT_NE(tty.out.find("visible"), std::string::npos) << tty.out;
  EXPECT_EQ(tty.out.find('\x1b'), std::string::npos) << tty.out;
  EXPECT_EQ(tty.out.find('\x07'), std::string::npos) << tty.out;
  EXPECT_EQ(tty.out.find('\x9b'), std::string::npos) << tty.out;
  // Into a pipe, or asked for with --raw, the bytes are as written.
  auto piped = run_hull({"logs", "t"});
  EXPECT_NE(piped.out.find("\x1b]0;pwned\x07"), std::string::npos) << piped.out;
  auto raw = run_hull_in_pty({"logs", "--raw", "t"});
  EXPECT_NE(raw.out.find('\x1b'), std::string::npos) << raw.out;
}

TEST_F(CliHostileTerminal, ErrorsNeverCarryTheSandboxsEscapeSequences) {
  HULL_REQUIRE_IMAGE();
  ASSERT_EQ(run_hull({"run", "-d", "--name", "t", "--", "sleep", "1000"}).exit_code, 0);
  auto r = run_hull({"exec", "t", "--", "\x1b[31mnosuch\x1b]0;pwned\x07"});
  EXPECT_EQ(r.exit_code, 127) << r.err;
  EXPECT_NE(r.err.find("nosuch"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\x07'), std::string::npos) << r.err;
  auto cp = run_hull({"cp", "t:/tmp/\x1b[2Jmissing", home_ + "/out"});
  EXPECT_NE(cp.exit_code, 0);
  EXPECT_EQ(cp.err.find('\x1b'), std::string::npos) << cp.err;
}

}  // namespace
}  // namespace hull::testing
