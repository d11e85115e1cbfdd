// open_private_dir: the check that keeps another local user from serving a
// fake control socket. The cases about other owners need root (chown); they
// skip, saying so, without it.
#include "base/private_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "base/temp_dir.h"

namespace hull {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kOther = 54322;

class PrivateDir : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = TempDir::create("/tmp", "hull-private-dir-");
    ASSERT_TRUE(t.ok());
    tmp_.emplace(std::move(*t));
    root_ = tmp_->path();  // mkdtemp: ours, 0700, under root's sticky /tmp
  }
  std::string mkdir(const std::string& rel, mode_t mode) {
    std::string p = root_ + "/" + rel;
    fs::create_directories(p);
    ::chmod(p.c_str(), mode);
    return p;
  }
  // The refusal for `path`, or "" when it is accepted.
  static std::string refusal(const std::string& path, Missing m = Missing::kRefuse, uid_t owner = ::geteuid()) {
    auto r = open_private_dir(path, m, owner);
    return r ? "" : r.error().message();
  }
  std::optional<TempDir> tmp_;
  std::string root_;
};

TEST_F(PrivateDir, ADirectoryOnlyTheUserCanWriteUnderTmpIsAccepted) {
  EXPECT_EQ(refusal(mkdir("run", 0700)), "");
  EXPECT_EQ(refusal(mkdir("a/b", 0755)), "");
}

TEST_F(PrivateDir, MissingComponentsAreCreated0700WhenAsked) {
  const std::string p = root_ + "/x/y/run";
  EXPECT_NE(refusal(p), "");
  EXPECT_FALSE(fs::exists(p)) << "Missing::kRefuse must not create anything";
  EXPECT_EQ(refusal(p, Missing::kCreate), "");
  struct stat st {};
  ASSERT_EQ(::stat((root_ + "/x").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST_F(PrivateDir, ASymlinkAnywhereOnThePathIsRefused) {
  mkdir("real/run", 0700);
  fs::create_directory_symlink(root_ + "/real", root_ + "/link");
  EXPECT_NE(refusal(root_ + "/link/run").find(root_ + "/link is a symlink"), std::string::npos);
  fs::create_directory_symlink(root_ + "/real/run", root_ + "/runlink");
  EXPECT_NE(refusal(root_ + "/runlink").find("is a symlink"), std::string::npos);
}

TEST_F(PrivateDir, DirectoriesOthersCanWriteAreRefusedUnlessStickyOnTheWay) {
  mkdir("open/run", 0700);
  ::chmod((root_ + "/open").c_str(), 0777);
  EXPECT_NE(refusal(root_ + "/open/run").find(root_ + "/open is writable by others (mode 0777) without the sticky bit"),
            std::string::npos);
  ::chmod((root_ + "/open").c_str(), 01777);  // like /tmp: accepted on the way
  EXPECT_EQ(refusal(root_ + "/open/run"), "");
  // ...but not as the directory itself, sticky or not.
  EXPECT_NE(refusal(root_ + "/open").find("writable by others (mode 1777)"), std::string::npos);
  ::chmod((root_ + "/open/run").c_str(), 0770);
  EXPECT_NE(refusal(root_ + "/open/run").find("writable by others (mode 0770)"), std::string::npos);
}

TEST_F(PrivateDir, RelativePathsAndDotDotAreJudgedWhereTheyLead) {
  mkdir("a/run", 0700);
  ::chmod((root_ + "/a").c_str(), 0777);
  EXPECT_NE(refusal(root_ + "/a/../a/./run").find(root_ + "/a is writable by others"), std::string::npos);
  const fs::path cwd = fs::current_path();
  fs::current_path(root_);
  const std::string relative = refusal("a/run");
  fs::current_path(cwd);
  EXPECT_NE(relative.find(root_ + "/a is writable by others"), std::string::npos) << relative;
}

TEST_F(PrivateDir, AComponentOwnedByAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown to another uid";
  std::string p = mkdir("theirs/run", 0700);
  ASSERT_EQ(::chown((root_ + "/theirs").c_str(), kOther, kOther), 0);
  EXPECT_NE(refusal(p).find(root_ + "/theirs is owned by uid 54322, not by you (uid 0) or root"), std::string::npos)
      << refusal(p);
  // With Missing::kCreate too: an existing directory is judged, never adopted.
  EXPECT_NE(refusal(p, Missing::kCreate).find("owned by uid 54322"), std::string::npos);
}

TEST_F(PrivateDir, TheDirectoryItselfMustBeTheUsersOwnNotRoots) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown to another uid";
  std::string p = mkdir("home/run", 0700);
  ASSERT_EQ(::chown(root_.c_str(), kOther, kOther), 0);
  ASSERT_EQ(::chown((root_ + "/home").c_str(), kOther, kOther), 0);
  ASSERT_EQ(::chown(p.c_str(), kOther, kOther), 0);
  EXPECT_EQ(refusal(p, Missing::kRefuse, kOther), "");  // root's /tmp on the way is fine
  ASSERT_EQ(::chown(p.c_str(), 0, 0), 0);
  EXPECT_NE(refusal(p, Missing::kRefuse, kOther).find(p + " is owned by uid 0, not by you (uid 54322)"),
            std::string::npos);
}

}  // namespace
}  // namespace hull
