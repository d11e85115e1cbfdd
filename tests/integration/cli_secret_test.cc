// `hull secret set|ls|rm` through the real binary: values stored privately
// (0600 files in a 0700 directory), listed by name only, typed without echo
// at a terminal, and never printed by any command, on success or failure.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "cli_harness.h"

namespace hull::testing {
namespace {

namespace fs = std::filesystem;

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class CliSecret : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    // hull stops reading stdin at a refused name or an oversized value; the
    // harness's write to the closed pipe must then fail, not kill the tests.
    ::signal(SIGPIPE, SIG_IGN);
  }
  std::string dir() const { return home_ + "/data/secrets"; }
  HullResult set(const std::string& name, const std::string& stdin_data) {
    HullOptions o;
    o.stdin_data = stdin_data;
    return run_hull({"secret", "set", name}, o);
  }
  size_t files_in_store() const {
    if (!fs::exists(dir())) return 0;
    return static_cast<size_t>(
        std::distance(fs::directory_iterator(dir()), fs::directory_iterator()));
  }
};

TEST_F(CliSecret, SetFromStdinIsStoredPrivatelyAndLsShowsTheNameOnly) {
  const std::string value = "sk-ant-api03-abcdef123456";
  auto r = set("anthropic", value + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("--credential anthropic"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(dir() + "/anthropic"), value) << "one trailing newline dropped";
  EXPECT_EQ(mode_of(dir()), 0700u);
  EXPECT_EQ(mode_of(dir() + "/anthropic"), 0600u);

  auto ls = run_hull({"secret", "ls"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("anthropic"), std::string::npos) << ls.out;
  auto js = run_hull({"secret", "ls", "--json"});
  ASSERT_EQ(js.exit_code, 0) << js.err;
  auto j = nlohmann::json::parse(js.out, nullptr, false);
  ASSERT_TRUE(j.is_array()) << js.out;
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0].value("name", ""), "anthropic");
  EXPECT_EQ(j[0].value("modified", "").size(), 20u) << j.dump();  // 2026-12-01T10:00:00Z
  EXPECT_EQ(j[0].size(), 2u) << "names and times only: " << j.dump();
  for (const auto* out : {&ls.out, &ls.err, &js.out, &js.err, &r.out, &r.err})
    EXPECT_EQ(out->find(value), std::string::npos) << *out;
}

TEST_F(CliSecret, AnEmptyStoreListsNothing) {
  auto js = run_hull({"secret", "ls", "--json"});
  ASSERT_EQ(js.exit_code, 0) << js.err;
  EXPECT_EQ(nlohmann::json::parse(js.out, nullptr, false), nlohmann::json::array());
}

TEST_F(CliSecret, SetFromAFileDropsOneLineEndingAndReplacesTheOldValue) {
  ASSERT_EQ(set("github", "old-token").exit_code, 0);
  std::ofstream(home_ + "/token", std::ios::binary) << "ghp_fromfile\r\n";
  auto r = run_hull({"secret", "set", "github", "--from-file", home_ + "/token"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(dir() + "/github"), "ghp_fromfile");
  EXPECT_EQ(files_in_store(), 1u) << "no temp file left behind";

  auto missing = run_hull({"secret", "set", "github", "--from-file", home_ + "/nope"});
  EXPECT_EQ(missing.exit_code, 125);
  EXPECT_NE(missing.err.find(home_ + "/nope"), std::string::npos) << missing.err;
  EXPECT_EQ(read_file(dir() + "/github"), "ghp_fromfile") << "a failed set keeps the old value";
}

TEST_F(CliSecret, RmRemovesAndAMissingNameExits125SayingWhatExists) {
  ASSERT_EQ(set("openai", "sk-1").exit_code, 0);
  auto r = run_hull({"secret", "rm", "openai"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "openai\n");
  EXPECT_FALSE(fs::exists(dir() + "/openai"));
  auto again = run_hull({"secret", "rm", "openai"});
  EXPECT_EQ(again.exit_code, 125);
  EXPECT_NE(again.err.find("secret 'openai'"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("hull secret ls"), std::string::npos) << again.err;
}

TEST_F(CliSecret, BadNamesAreRefusedAndNothingIsStored) {
  for (const std::string& bad : std::vector<std::string>{"Anthropic", "../escape", "a/b", ".hidden",
                                                         "a b", std::string(65, 'a')}) {
    auto r = set(bad, "value");
    EXPECT_EQ(r.exit_code, 125) << bad;
    EXPECT_NE(r.err.find("is not valid"), std::string::npos) << r.err;
  }
  // A leading '-' reads as a flag; after "--" it reaches hull's own check.
  HullOptions o;
  o.stdin_data = "value";
  auto dash = run_hull({"secret", "set", "--", "-x"}, o);
  EXPECT_EQ(dash.exit_code, 125);
  EXPECT_NE(dash.err.find("is not valid"), std::string::npos) << dash.err;
  EXPECT_EQ(run_hull({"secret", "rm", "../x"}).exit_code, 125);
  EXPECT_EQ(files_in_store(), 0u);
  EXPECT_FALSE(fs::exists(home_ + "/data/escape"));
}

TEST_F(CliSecret, EmptyNulAndOversizedValuesAreRefused) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty"},
      {"\n", "empty"},
      {std::string("ab\0cd", 5), "NUL"},
      {std::string(64 * 1024 + 1, 'x'), "larger than 64 KiB"},
  };
  for (const auto& [value, why] : cases) {
    auto r = set("k", value);
    EXPECT_EQ(r.exit_code, 125) << value.size();
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
  }
  EXPECT_EQ(set("k", std::string(64 * 1024, 'x')).exit_code, 0) << "64 KiB exactly fits";
}

TEST_F(CliSecret, AStoreOthersCanReadIsRefusedSayingHowToFixIt) {
  ASSERT_EQ(set("k", "v").exit_code, 0);
  ::chmod(dir().c_str(), 0755);
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"secret", "ls"}, {"secret", "rm", "k"}}) {
    auto r = run_hull(args);
    EXPECT_EQ(r.exit_code, 125) << args[1];
    EXPECT_NE(r.err.find("chmod 700 " + dir()), std::string::npos) << r.err;
  }
  EXPECT_TRUE(fs::exists(dir() + "/k"));
}

TEST_F(CliSecret, NoCommandEverPrintsTheValue) {
  const std::string value = "tok-THE-VALUE-9f8e7d";
  std::string seen;
  auto record = [&](const HullResult& r) { seen += r.out + r.err; };
  record(set("anthropic", value));
  std::ofstream(home_ + "/f") << value << "\n";
  record(run_hull({"secret", "set", "github", "--from-file", home_ + "/f"}));
  record(run_hull({"secret", "ls"}));
  record(run_hull({"secret", "ls", "--json"}));
  record(set("Bad-Name", value));                          // refused name
  record(set("nul", value + std::string(1, '\0') + "x"));  // refused value
  record(set("big", value + std::string(70000, 'x')));     // refused value
  record(run_hull({"secret", "rm", "nope"}));
  record(run_hull({"secret", "--help"}));
  record(run_hull({"secret", "rm", "anthropic", "github"}));
  EXPECT_EQ(seen.find(value), std::string::npos) << seen;
}

TEST_F(CliSecret, HelpTeachesWithExamples) {
  auto r = run_hull({"secret", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Example: hull secret set"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--credential"), std::string::npos) << r.out;
  for (std::string sub : {"set", "ls", "rm"}) {
    auto s = run_hull({"secret", sub, "--help"});
    EXPECT_EQ(s.exit_code, 0) << sub;
    EXPECT_NE(s.out.find("Example: hull secret " + sub), std::string::npos) << sub << ": " << s.out;
  }
}

// `hull secret set NAME` on a pseudo-terminal, driven like a person would.
class PromptSession {
 public:
  explicit PromptSession(const std::string& name) {
    pid_ = ::forkpty(&master_, nullptr, nullptr, nullptr);
    if (pid_ == 0) {
      ::execl(HULL_BIN, HULL_BIN, "secret", "set", name.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~PromptSession() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) ::close(master_);
  }
  bool started() const { return pid_ > 0 && master_ >= 0; }
  // Reads until `text` has been seen (true) or 10 s passed or output ended.
  bool wait_for(const std::string& text) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (output_.find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline || !read_some(100)) return false;
    }
    return true;
  }
  void type(const std::string& s) { (void)!::write(master_, s.data(), s.size()); }
  bool echo_on() {
    termios t{};
    ::tcgetattr(master_, &t);
    return (t.c_lflag & ECHO) != 0;
  }
  // Everything until the program ends; its exit code (128+signal if killed).
  int finish() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline && read_some(100)) {
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  const std::string& output() const { return output_; }

 private:
  // False at end of output (EIO once the child side is closed).
  bool read_some(int timeout_ms) {
    pollfd p{master_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return true;
    char buf[4096];
    ssize_t n = ::read(master_, buf, sizeof buf);
    if (n <= 0) return false;
    output_.append(buf, static_cast<size_t>(n));
    return true;
  }
  pid_t pid_ = -1;
  int master_ = -1;
  bool reaped_ = false;
  std::string output_;
};

TEST_F(CliSecret, ATerminalPromptReadsTheValueWithoutEchoingIt) {
  PromptSession s("gemini");
  ASSERT_TRUE(s.started());
  ASSERT_TRUE(s.wait_for("it is not shown")) << s.output();
  EXPECT_FALSE(s.echo_on());
  const std::string value = "AIza-typed-at-the-terminal";
  s.type(value + "\r");  // Enter: the terminal turns CR into a newline
  EXPECT_EQ(s.finish(), 0) << s.output();
  EXPECT_EQ(s.output().find(value), std::string::npos) << s.output();
  EXPECT_EQ(read_file(dir() + "/gemini"), value);
  EXPECT_TRUE(s.echo_on()) << "echo comes back after the value";
}

TEST_F(CliSecret, InterruptingThePromptGivesTheTerminalItsEchoBack) {
  PromptSession s("gemini");
  ASSERT_TRUE(s.started());
  ASSERT_TRUE(s.wait_for("it is not shown")) << s.output();
  ASSERT_FALSE(s.echo_on());
  s.type("half-typed\x03");  // Ctrl-C: SIGINT from the terminal
  EXPECT_EQ(s.finish(), 128 + SIGINT) << s.output();
  EXPECT_TRUE(s.echo_on());
  EXPECT_FALSE(fs::exists(dir() + "/gemini"));
}

}  // namespace
}  // namespace hull::testing
