// `hull cp` on the host side, against a sandbox that shares a workspace with
// the host and plants symlinks in it. The CLI often runs as root (namespace
// sandboxes), so whatever a planted link could make it write or read is any
// file on the host. Runs on both backends (a microVM's workspace is 9p with
// security_model=none: its symlinks are real symlinks on the host).
#include <sys/mount.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "../integration/cli_harness.h"

namespace hull::testing {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

void spit(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

bool is_symlink(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

// Names in `dir` (the temp files of an aborted copy would show up here).
std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  return out;
}

// One running sandbox "w" with a workspace the test plants things in.
class CliHostileCp : public CliTest {
 protected:
  void start_sandbox() {
    ws_ = home_ + "/ws";
    fs::create_directories(ws_);
    auto r = run_hull({"run", "-d", "--name", "w", "--workspace", ws_, "--", "sleep", "1000"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Runs a shell command inside the sandbox; its stdout.
  std::string in_sandbox(const std::string& script) {
    auto r = run_hull({"exec", "w", "--", "sh", "-c", script});
    EXPECT_EQ(r.exit_code, 0) << script << ": " << r.err;
    return r.out;
  }
  std::string ws_;
};

TEST_F(CliHostileCp, CpDownloadNeverFollowsASymlinkTheSandboxPlanted) {
  HULL_REQUIRE_IMAGE();
  start_sandbox();
  const std::string target = home_ + "/host-target";  // outside the workspace
  in_sandbox("echo from-sandbox > /tmp/p && ln -s " + target + " /workspace/out.txt");
  ASSERT_TRUE(is_symlink(ws_ + "/out.txt"));

  auto r = run_hull({"cp", "w:/tmp/p", ws_ + "/out.txt"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(target)) << "hull cp wrote through the sandbox's symlink to " << target;
  // The link is replaced by the file the user asked for.
  EXPECT_FALSE(is_symlink(ws_ + "/out.txt"));
  EXPECT_EQ(slurp(ws_ + "/out.txt"), "from-sandbox\n");
}

TEST_F(CliHostileCp, CpDownloadRefusesASymlinkedDirectoryInTheDestination) {
  HULL_REQUIRE_IMAGE();
  start_sandbox();
  const std::string elsewhere = home_ + "/elsewhere";  // a host directory outside the workspace
  fs::create_directories(elsewhere);
  in_sandbox("echo from-sandbox > /tmp/p && ln -s " + elsewhere + " /workspace/sub");

  auto r = run_hull({"cp", "w:/tmp/p", ws_ + "/sub/out.txt"});
  EXPECT_EQ(r.exit_code, 125) << r.err;
  EXPECT_NE(r.err.find("symlink"), std::string::npos) << r.err;
  EXPECT_TRUE(names_in(elsewhere).empty()) << "hull cp wrote through the sandbox's symlinked directory";

  // The same copy into a real directory works, and a directory as DST
  // takes the source's name.
  fs::create_directories(ws_ + "/real");
  auto ok = run_hull({"cp", "w:/tmp/p", ws_ + "/real"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(slurp(ws_ + "/real/p"), "from-sandbox\n");
}

TEST_F(CliHostileCp, CpUploadNeverReadsThroughASymlinkTheSandboxPlanted) {
  HULL_REQUIRE_IMAGE();
  start_sandbox();
  const std::string secret = home_ + "/host-secret";
  spit(secret, "host-secret-value\n");
  in_sandbox("ln -s " + secret + " /workspace/notes.txt");

  auto r = run_hull({"cp", ws_ + "/notes.txt", "w:/tmp/got"});
  EXPECT_EQ(r.exit_code, 125) << r.err;
  EXPECT_NE(r.err.find("symlink"), std::string::npos) << r.err;
  auto seen = run_hull({"exec", "w", "--", "sh", "-c", "cat /tmp/got 2>/dev/null; true"});
  EXPECT_EQ(seen.out.find("host-secret-value"), std::string::npos) << "the host file reached the sandbox";
}

// Unmounts on scope exit.
struct TmpfsMount {
  std::string at;
  bool mounted = false;
  TmpfsMount(std::string dir, const std::string& size) : at(std::move(dir)) {
    fs::create_directories(at);
    mounted = ::mount("tmpfs", at.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~TmpfsMount() {
    if (mounted) ::umount2(at.c_str(), MNT_DETACH);
  }
};

// A download may not fill the host's filesystem: it is refused when it would
// leave less than 5% of it (at most 1 GiB) free. On a 10 MiB tmpfs the floor
// is 512 KiB: 9.75 MiB fits, but is refused; 4 MiB is copied.
TEST_F(CliHostileCp, CpDownloadKeepsAFloorOfFreeSpaceOnTheHost) {
  HULL_REQUIRE_IMAGE();
  TmpfsMount small(home_ + "/small", "10m");
  if (!small.mounted) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  start_sandbox();
  in_sandbox("head -c " + std::to_string((10u << 20) - (256u << 10)) + " /dev/zero > /tmp/big && "
             "head -c " + std::to_string(4u << 20) + " /dev/zero > /tmp/ok");

  auto big = run_hull({"cp", "w:/tmp/big", small.at + "/big"});
  EXPECT_EQ(big.exit_code, 125) << big.err;
  EXPECT_NE(big.err.find("free"), std::string::npos) << big.err;
  EXPECT_TRUE(names_in(small.at).empty()) << "a refused copy left a file behind";

  auto ok = run_hull({"cp", "w:/tmp/ok", small.at + "/ok"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  std::error_code ec;
  EXPECT_EQ(fs::file_size(small.at + "/ok", ec), 4u << 20) << ec.message();
}

}  // namespace
}  // namespace hull::testing
