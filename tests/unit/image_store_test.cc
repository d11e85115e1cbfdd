// The image store: content names, tags, crash-safe publishing, removal, gc.
#include "image/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/temp_dir.h"

namespace hull::image {
namespace {

namespace fs = std::filesystem;

struct StoreTest : ::testing::Test {
  TempDir dir = TempDir::create("/tmp", "hull-store-").value();
  ImageStore store{dir.path() + "/images"};

  // Stages a rootfs with one file of `content` and publishes it.
  ImageRecord put(const std::string& content, ImageConfig cfg = {}) {
    auto st = store.stage();
    EXPECT_TRUE(st.ok());
    std::ofstream(st->rootfs() + "/hello") << content;
    ImageMeta meta;
    meta.config = std::move(cfg);
    meta.builder = "test";
    auto rec = store.publish(std::move(*st), meta);
    EXPECT_TRUE(rec.ok()) << (rec.ok() ? "" : rec.error().message());
    return rec.value();
  }
  size_t stages() const {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(store.root()))
      if (e.path().filename().string().rfind(".stage-", 0) == 0) ++n;
    return n;
  }
};

TEST_F(StoreTest, SameTreeAndConfigGiveTheSameNameAndOneCopy) {
  auto a = put("hi");
  auto b = put("hi");
  EXPECT_EQ(a.digest, b.digest);
  EXPECT_EQ(a.digest.size(), 71u);
  EXPECT_EQ(stages(), 0u) << "a duplicate publish leaves no staging behind";
  EXPECT_NE(put("ho").digest, a.digest);
  ImageConfig cfg;
  cfg.cmd = {"/bin/sh"};
  auto c = put("hi", cfg);
  EXPECT_NE(c.digest, a.digest) << "the config is part of the name";
  EXPECT_EQ(c.rootfs_digest, a.rootfs_digest);
  EXPECT_TRUE(store.verify(a).ok());
}

TEST_F(StoreTest, TagsResolveAndPrefixesMustBeUnique) {
  auto a = put("one");
  ASSERT_TRUE(store.tag("app:1", a.digest).ok());
  EXPECT_EQ(store.resolve("app:1")->digest, a.digest);
  EXPECT_EQ(store.resolve(a.digest)->digest, a.digest);
  EXPECT_EQ(store.resolve(a.digest.substr(7, 12))->digest, a.digest);
  EXPECT_FALSE(store.resolve("nope").ok());
  EXPECT_FALSE(store.resolve("abc").ok()) << "too short to be a digest prefix";
  EXPECT_FALSE(store.tag("Bad/Name", a.digest).ok());
  EXPECT_FALSE(store.tag("../escape", a.digest).ok());
  EXPECT_FALSE(store.tag("x", "sha256:" + std::string(64, '0')).ok()) << "tag of a missing image";
}

TEST_F(StoreTest, ListShowsImagesWithTheirTagsAndNeverAStaging) {
  auto a = put("a");
  auto b = put("b");
  ASSERT_TRUE(store.tag("a", a.digest).ok());
  ASSERT_TRUE(store.tag("a2", a.digest).ok());
  auto half = store.stage();  // an import in progress
  ASSERT_TRUE(half.ok());
  auto l = store.list().value();
  ASSERT_EQ(l.size(), 2u);
  for (const auto& [rec, tags] : l) {
    if (rec.digest == a.digest) EXPECT_EQ(tags, (std::vector<std::string>{"a", "a2"}));
    if (rec.digest == b.digest) EXPECT_TRUE(tags.empty());
  }
}

TEST_F(StoreTest, RemoveByTagKeepsOtherTagsRemoveByDigestTakesAll) {
  auto a = put("a");
  ASSERT_TRUE(store.tag("x", a.digest).ok());
  ASSERT_TRUE(store.tag("y", a.digest).ok());
  ASSERT_TRUE(store.remove("x").ok());
  EXPECT_TRUE(store.resolve("y").ok());
  EXPECT_TRUE(fs::exists(a.rootfs()));
  ASSERT_TRUE(store.remove("y").ok());
  EXPECT_FALSE(fs::exists(a.dir)) << "last tag gone: the image goes";
  auto b = put("b");
  ASSERT_TRUE(store.tag("z", b.digest).ok());
  ASSERT_TRUE(store.remove(b.digest).ok());
  EXPECT_FALSE(store.resolve("z").ok());
  EXPECT_TRUE(store.list()->empty());
}

TEST_F(StoreTest, GcRemovesUntaggedUnusedImagesAndKilledStagings) {
  auto kept = put("kept");
  auto used = put("used");
  auto loose = put("loose");
  ASSERT_TRUE(store.tag("kept", kept.digest).ok());
  // A killed import: its staging dir outlived the process.
  fs::create_directories(store.root() + "/.stage-killed/rootfs");
  auto s = store.gc({used.digest}).value();
  EXPECT_EQ(s.images_removed, 1u);
  EXPECT_GE(s.stages_removed, 1u);
  EXPECT_TRUE(fs::exists(kept.dir));
  EXPECT_TRUE(fs::exists(used.dir));
  EXPECT_FALSE(fs::exists(loose.dir));
  EXPECT_EQ(stages(), 0u);
}

// A staging dir is flock'ed by its live builder: gc and another build's
// stage() leave it alone, and clear one whose builder is gone.
TEST_F(StoreTest, LiveStagingsSurviveGcAndNewStagesDeadOnesDoNot) {
  auto live = store.stage();
  ASSERT_TRUE(live.ok()) << live.error().message();
  fs::create_directories(store.root() + "/.stage-dead/rootfs");
  auto other = store.stage();  // clears the dead one, not the live one
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(fs::exists(store.root() + "/.stage-dead"));
  EXPECT_TRUE(fs::exists(live->dir()));
  auto s = store.gc({}).value();
  EXPECT_EQ(s.stages_removed, 0u);
  EXPECT_TRUE(fs::exists(live->dir()));
  EXPECT_TRUE(fs::exists(other->dir()));
  EXPECT_EQ(stages(), 2u);
}

TEST_F(StoreTest, VerifyNoticesARootfsChangedOnDisk) {
  auto a = put("original");
  std::ofstream(a.rootfs() + "/hello") << "tampered";
  auto v = store.verify(a);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message().find("changed on disk"), std::string::npos) << v.error().message();
}

}  // namespace
}  // namespace hull::image
