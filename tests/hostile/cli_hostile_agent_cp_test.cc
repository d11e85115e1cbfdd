// `hull cp` against a lying agent (tests/bin/evil_agent.cc, mode
// cp-overrun): it announces a 10-byte file and streams 192 KiB. The CLI must
// write no more than announced, fail saying so, and leave the destination as
// it was. Runs on both backends (the "Cli" prefix).
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "../integration/cli_harness.h"
#include "../integration/supervisor_harness.h"

namespace hull::testing {
namespace {

namespace fs = std::filesystem;
using supervisor::testing::SupervisorProcess;

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// The `hull` children of this test reach the fake agent's sandbox.
struct ScopedHullHome {
  explicit ScopedHullHome(const std::string& home) { ::setenv("HULL_HOME", home.c_str(), 1); }
  ~ScopedHullHome() { ::unsetenv("HULL_HOME"); }
};

TEST(CliHostileAgent, CpDownloadStopsAtTheSizeTheSandboxAnnounced) {
  HULL_REQUIRE_ROOTFS();
  supervisor::SandboxSpec spec;
  spec.command = {"sleep", "1000"};
  SupervisorProcess sp(spec, supervisor::testing::evil_agent());
  sp.write_workspace_file("evil-mode", "cp-overrun");
  ASSERT_EQ(sp.start(), "ok");
  ScopedHullHome home(sp.home());
  auto dst = TempDir::create("/tmp", "hull-cp-dst-");
  ASSERT_TRUE(dst.ok());
  const std::string out = dst->path() + "/out";
  {
    std::ofstream f(out);
    f << "old content\n";
  }

  auto r = run_hull({"cp", sp.name() + ":/x", out});
  EXPECT_EQ(r.exit_code, 125) << r.err;
  EXPECT_NE(r.err.find("announced"), std::string::npos) << r.err;
  const std::string now = slurp(out);
  EXPECT_TRUE(now == "old content\n") << "an aborted copy must leave the old file; it has " << now.size() << " bytes";
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dst->path())) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"out"}) << "an aborted copy must remove its temp file";

  // To stdout: bounded by the same announcement.
  auto piped = run_hull({"cp", sp.name() + ":/x", "-"});
  EXPECT_EQ(piped.exit_code, 125) << piped.err;
  EXPECT_LE(piped.out.size(), 10u);
}

}  // namespace
}  // namespace hull::testing
