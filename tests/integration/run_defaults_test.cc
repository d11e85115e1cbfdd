// hull.toml's [sandbox] table as the defaults of `hull run --image PATH`:
// what the file sets reaches the sandbox, flags and $HULL_BACKEND win, the
// workspace's read-only mode is never loosened, and a network the build
// cannot give is said, not pretended. The image is the nix test flake
// (built in well under a second), run in namespace sandboxes.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "nix_project.h"

namespace hull::testing {
namespace {

namespace fs = std::filesystem;

class RunDefaults : public NixProjectTest {
 protected:
  void SetUp() override {
    NixProjectTest::SetUp();
    if (IsSkipped()) return;
    if (!backend_usable("namespace")) GTEST_SKIP() << "the namespace backend is not usable here (see hull doctor)";
    std::ofstream(project_ + "/marker") << "from the project\n";
  }

  // Starts `busybox sleep 60` detached from the project's hull.toml with
  // these extra flags; the sandbox's spec as `hull inspect --json` shows it.
  nlohmann::json start(const std::string& name, std::vector<std::string> flags, std::string* err = nullptr) {
    std::vector<std::string> args{"run", "-d", "--name", name, "--image", project_};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"--", kBusybox, "sleep", "60"});
    auto r = run_hull(args, {.timeout_s = 300});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (err != nullptr) *err = r.err;
    return inspect_json(name)["spec"];
  }

  std::string canonical_project() const { return fs::canonical(project_).string(); }
};

TEST_F(RunDefaults, TheTablesLimitsAndReadOnlyWorkspaceReachTheSandbox) {
  append_to_spec("[sandbox]\ncpus = 1.5\nmemory = \"96m\"\ndisk = \"32m\"\npids = 64\nworkspace = \"ro\"\n");
  std::string err;
  auto spec = start("limits", {}, &err);
  EXPECT_NE(err.find("[sandbox]: cpus 1.5, memory 96 MiB, disk 32 MiB, pids 64, workspace "), std::string::npos)
      << err;
  EXPECT_EQ(spec["limits"]["cpus"], 1.5);
  EXPECT_EQ(spec["limits"]["memory_bytes"], 96ull << 20);
  EXPECT_EQ(spec["limits"]["disk_bytes"], 32ull << 20);
  EXPECT_EQ(spec["limits"]["pids"], 64);
  EXPECT_EQ(spec["workspace"], canonical_project());
  EXPECT_EQ(spec["workspace_ro"], true);

  // The project is there to read, and read-only for real.
  auto cat = run_hull({"exec", "limits", "--", kBusybox, "cat", "/workspace/marker"});
  EXPECT_EQ(cat.exit_code, 0) << cat.err;
  EXPECT_EQ(cat.out, "from the project\n");
  auto touch = run_hull({"exec", "limits", "--", kBusybox, "touch", "/workspace/written"});
  EXPECT_NE(touch.exit_code, 0);
  EXPECT_NE(touch.err.find("Read-only file system"), std::string::npos) << touch.err;
  EXPECT_FALSE(fs::exists(project_ + "/written"));
}

TEST_F(RunDefaults, FlagsWinButCannotLoosenAReadOnlyWorkspace) {
  append_to_spec("[sandbox]\nmemory = \"96m\"\npids = 64\nworkspace = \"ro\"\n");
  const std::string other = home_ + "/other";
  fs::create_directories(other);
  auto spec = start("flags", {"--memory", "128m", "--pids", "100", "--workspace", other});
  EXPECT_EQ(spec["limits"]["memory_bytes"], 128ull << 20);
  EXPECT_EQ(spec["limits"]["pids"], 100);
  EXPECT_EQ(spec["workspace"], fs::canonical(other).string());
  EXPECT_EQ(spec["workspace_ro"], true);
  EXPECT_EQ(spec["limits"]["cpus"], 0);  // unset in both: hull run's default
}

TEST_F(RunDefaults, WithoutATableTheProjectIsMountedReadWrite) {
  auto spec = start("plain", {});
  EXPECT_EQ(spec["workspace"], canonical_project());
  EXPECT_EQ(spec["workspace_ro"], false);
  auto w = run_hull({"exec", "plain", "--", kBusybox, "sh", "-c", "echo hi > /workspace/written"});
  EXPECT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(slurp(project_ + "/written"), "hi\n");
}

TEST_F(RunDefaults, WorkspaceNoneMountsNothingAndProxyGivesTheBalancedEgressProxy) {
  append_to_spec("[sandbox]\nworkspace = \"none\"\nnetwork = \"proxy\"\n");
  std::string err;
  auto spec = start("bare", {}, &err);
  EXPECT_EQ(spec["workspace"], "");
  EXPECT_NE(err.find("network balanced (through hull's egress proxy)"), std::string::npos) << err;
  EXPECT_EQ(spec["network"]["preset"], "balanced");
  auto ls = run_hull({"exec", "bare", "--", kBusybox, "ls", "/workspace/marker"});
  EXPECT_NE(ls.exit_code, 0) << ls.out;
}

// The table belongs to the directory: the same image run by tag brings none of it.
TEST_F(RunDefaults, AnImageRunByTagBringsNoTable) {
  append_to_spec("[sandbox]\nmemory = \"96m\"\nworkspace = \"ro\"\n");
  auto b = run_hull({"image", "build", project_, "--tag", "withtable"}, {.timeout_s = 300});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto r = run_hull({"run", "-d", "--name", "bytag", "--image", "withtable", "--", kBusybox, "sleep", "60"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto spec = inspect_json("bytag")["spec"];
  EXPECT_EQ(spec["limits"]["memory_bytes"], 0);
  EXPECT_EQ(spec["workspace"], "");
}

// Restores an environment variable when the test ends, however it ends.
class EnvRestore {
 public:
  explicit EnvRestore(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) old_ = v;
  }
  ~EnvRestore() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }
  EnvRestore(const EnvRestore&) = delete;
  EnvRestore& operator=(const EnvRestore&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST_F(RunDefaults, TheTablesBackendAppliesUnlessTheFlagOrEnvironmentNamesOne) {
  EnvRestore keep("HULL_BACKEND");
  append_to_spec("[sandbox]\nbackend = \"namespace\"\n");
  ::unsetenv("HULL_BACKEND");
  std::string err;
  auto spec = start("fromfile", {}, &err);
  EXPECT_EQ(spec["backend"], "namespace");
  EXPECT_NE(err.find("backend namespace"), std::string::npos) << err;

  // A file that asks for the microVM loses to $HULL_BACKEND (and to --backend).
  fs::remove(project_ + "/hull.toml");
  fs::copy_file(kNixFlakeDir / "hull.toml", project_ + "/hull.toml");
  append_to_spec("[sandbox]\nbackend = \"microvm\"\n");
  ::setenv("HULL_BACKEND", "namespace", 1);
  EXPECT_EQ(start("fromenv", {})["backend"], "namespace");
  ::unsetenv("HULL_BACKEND");
  EXPECT_EQ(start("fromflag", {"--backend", "namespace"})["backend"], "namespace");
}

}  // namespace
}  // namespace hull::testing
