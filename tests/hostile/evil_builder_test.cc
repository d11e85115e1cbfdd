// The Debian builder's sandbox is hostile too: whatever it hands back is
// applied like an untrusted image layer. These tests stand in a "sandbox"
// (a SandboxRunner the test writes) that returns a malicious tar or lies
// about its exit, and check that the build fails clearly, publishes no
// image, and writes nothing outside the store.
//
// They resolve and fetch from the Debian archive (the real steps 1-2), so
// they run with HULL_TEST_IMAGE_BUILD=1 like the other build tests.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/command.h"
#include "base/temp_dir.h"
#include "image/debian_builder.h"
#include "image/workload_spec.h"

namespace hull::image {
namespace {

namespace fs = std::filesystem;

class EvilBuilder : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* opt = std::getenv("HULL_TEST_IMAGE_BUILD");
    if (opt == nullptr || std::string(opt) != "1")
      GTEST_SKIP() << "set HULL_TEST_IMAGE_BUILD=1 to run real Debian builds (needs the Debian archive)";
    if (find_program("mmdebstrap").empty()) GTEST_SKIP() << "mmdebstrap is not installed";
    auto t = TempDir::create("/tmp", "hull-evil-builder-");
    ASSERT_TRUE(t.ok());
    tmp_.emplace(std::move(*t));
    ::setenv("HULL_HOME", (tmp_->path() + "/home").c_str(), 1);
    project_ = tmp_->path() + "/project";
    fs::create_directories(project_);
    std::ofstream(project_ + "/hull.toml") << "[image]\nbase = \"debian:bookworm\"\npackages = [\"hello\"]\n";
    auto spec = load_workload_spec(project_ + "/hull.toml");
    ASSERT_TRUE(spec.ok()) << spec.error().message();
    req_.spec = *spec;
    req_.spec_path = project_ + "/hull.toml";
    req_.project_dir = project_;
    req_.lock_path = project_ + "/hull.lock";
  }
  void TearDown() override { ::unsetenv("HULL_HOME"); }

  std::vector<std::string> store_entries() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(tmp_->path() + "/home/data/images", ec))
      out.push_back(e.path().filename().string());
    return out;
  }

  std::optional<TempDir> tmp_;
  std::string project_;
  DebianBuildRequest req_;
};

TEST_F(EvilBuilder, ATarThatClimbsOutOfTheRootfsIsRejectedAndWritesNothingOutside) {
  const std::string evil = tmp_->path() + "/evil";
  fs::create_directories(evil + "/x");
  std::ofstream(evil + "/x/escaped") << "pwned\n";
  bool ran = false;
  req_.sandbox = SandboxRunner{"evil-test", [&](const SandboxedRun& job) -> Result<int> {
                                 ran = true;
                                 // -P keeps "../" in the member name.
                                 const std::string cmd = "tar -P -C " + evil + "/x --transform='s,^escaped,../../escaped,' -cf " +
                                                         job.stdout_path + " escaped";
                                 if (std::system(cmd.c_str()) != 0) return make_error("make the evil tar");
                                 return 0;
                               }};
  ImageStore store;
  auto r = build_debian_image(req_, store);
  ASSERT_TRUE(ran);
  ASSERT_FALSE(r.ok()) << "a hostile tar was published as " << r->image.digest;
  EXPECT_NE(r.error().message().find(".."), std::string::npos) << r.error().message();
  for (const auto& e : fs::recursive_directory_iterator(tmp_->path()))
    if (e.path().filename() == "escaped") EXPECT_TRUE(e.path().string().starts_with(evil)) << "written outside: " << e.path();
  auto list = store.list();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
  for (const auto& n : store_entries()) EXPECT_FALSE(n.starts_with(".stage-")) << n;
}

TEST_F(EvilBuilder, ASandboxThatClaimsSuccessButInstallsOtherPackagesIsCaught) {
  // Exit 0 and a well-formed tar, but not what the lock pins: an empty tree
  // whose dpkg database lists nothing. The image's package list (the SBOM)
  // must never be taken on a sandbox's word.
  const std::string fake = tmp_->path() + "/fake";
  fs::create_directories(fake + "/var/lib/dpkg");
  std::ofstream(fake + "/var/lib/dpkg/status") << "";
  req_.sandbox = SandboxRunner{"evil-test", [&](const SandboxedRun& job) -> Result<int> {
                                 const std::string cmd = "tar -C " + fake + " -cf " + job.stdout_path + " .";
                                 if (std::system(cmd.c_str()) != 0) return make_error("make the fake tar");
                                 return 0;
                               }};
  ImageStore store;
  auto r = build_debian_image(req_, store);
  ASSERT_FALSE(r.ok()) << "published " << r->image.digest;
  EXPECT_NE(r.error().message().find("from the lock is not installed"), std::string::npos) << r.error().message();
  auto list = store.list();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

}  // namespace
}  // namespace hull::image
