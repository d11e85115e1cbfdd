// The secret store: values round-trip, files and directory stay private,
// nothing is read through a symlink or from a store others can reach, and
// input rules (one line ending dropped, no NUL, 1 byte..64 KiB) hold.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "base/temp_dir.h"
#include "egress/secret_store.h"

namespace hull::egress {
namespace {

namespace fs = std::filesystem;

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class SecretStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = TempDir::create("/tmp", "hull-secret-store-");
    ASSERT_TRUE(t.ok());
    tmp_.emplace(std::move(*t));
    dir_ = tmp_->path() + "/data/secrets";
  }
  std::optional<TempDir> tmp_;
  std::string dir_;
};

TEST_F(SecretStoreTest, ASetValueIsReadBackFromAPrivateFileInAPrivateDirectory) {
  SecretStore store(dir_);
  ASSERT_TRUE(store.set("anthropic", "sk-ant-123").ok());
  auto v = store.get("anthropic");
  ASSERT_TRUE(v.ok()) << v.error().message();
  EXPECT_EQ(v->view(), "sk-ant-123");
  EXPECT_EQ(mode_of(dir_), 0700u);
  EXPECT_EQ(mode_of(dir_ + "/anthropic"), 0600u);
}

TEST_F(SecretStoreTest, SetReplacesAndLeavesNoTempFile) {
  SecretStore store(dir_);
  ASSERT_TRUE(store.set("k", "old").ok());
  ASSERT_TRUE(store.set("k", "new-value").ok());
  EXPECT_EQ(store.get("k")->view(), "new-value");
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1);
}

TEST_F(SecretStoreTest, ListGivesSortedNamesAndSkipsWhatIsNoSecret) {
  SecretStore store(dir_);
  EXPECT_TRUE(store.list()->empty()) << "a store not made yet lists nothing";
  ASSERT_TRUE(store.set("openai", "x").ok());
  ASSERT_TRUE(store.set("github", "y").ok());
  std::ofstream(dir_ + "/.tmp-github.123") << "half";
  fs::create_directory(dir_ + "/somedir");
  fs::create_symlink("/etc/passwd", dir_ + "/link");
  auto list = store.list();
  ASSERT_TRUE(list.ok()) << list.error().message();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "github");
  EXPECT_EQ((*list)[1].name, "openai");
  EXPECT_GT((*list)[0].modified, 0);
}

TEST_F(SecretStoreTest, RemoveDeletesAndAMissingSecretIsENOENT) {
  SecretStore store(dir_);
  EXPECT_EQ(store.get("k").error().err, ENOENT);
  EXPECT_EQ(store.remove("k").error().err, ENOENT);
  ASSERT_TRUE(store.set("k", "v").ok());
  ASSERT_TRUE(store.remove("k").ok());
  auto gone = store.get("k");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().err, ENOENT);
  EXPECT_NE(gone.error().message().find("hull secret set k"), std::string::npos)
      << gone.error().message();
}

TEST_F(SecretStoreTest, AStoreOthersCanReadIsRefusedSayingHowToFixIt) {
  SecretStore store(dir_);
  ASSERT_TRUE(store.set("k", "v").ok());
  ::chmod(dir_.c_str(), 0750);
  for (auto r :
       {store.get("k").ok() ? std::string() : store.get("k").error().message(),
        store.list().ok() ? std::string() : store.list().error().message(),
        store.set("k", "w").ok() ? std::string() : store.set("k", "w").error().message()}) {
    EXPECT_NE(r.find("chmod 700 " + dir_), std::string::npos) << r;
  }
  ::chmod(dir_.c_str(), 0700);
  ::chmod((dir_ + "/k").c_str(), 0640);
  auto r = store.get("k");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("chmod 600"), std::string::npos) << r.error().message();
}

TEST_F(SecretStoreTest, AStoreUnderADirectoryOthersMayWriteIsRefused) {
  fs::create_directories(tmp_->path() + "/data");
  ::chmod((tmp_->path() + "/data").c_str(), 0777);
  auto r = SecretStore(dir_).set("k", "v");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("writable by others"), std::string::npos)
      << r.error().message();
}

TEST_F(SecretStoreTest, ASymlinkInPlaceOfASecretIsNeverFollowed) {
  SecretStore store(dir_);
  ASSERT_TRUE(store.set("other", "v").ok());
  std::ofstream(tmp_->path() + "/target") << "not-a-secret";
  fs::create_symlink(tmp_->path() + "/target", dir_ + "/k");
  auto r = store.get("k");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("symlink"), std::string::npos) << r.error().message();
  // set replaces the link itself, never writes through it.
  ASSERT_TRUE(store.set("k", "mine").ok());
  EXPECT_EQ(store.get("k")->view(), "mine");
  std::ifstream in(tmp_->path() + "/target");
  std::string target((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(target, "not-a-secret");
}

TEST_F(SecretStoreTest, BadNamesAreRefusedBeforeAnythingIsWritten) {
  SecretStore store(dir_);
  for (const std::string& bad : std::vector<std::string>{"", "Anthropic", "../x", ".tmp", "a/b",
                                                         "-a", std::string(65, 'a')}) {
    auto r = store.set(bad, "v");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message().find("is not valid"), std::string::npos) << r.error().message();
  }
  EXPECT_FALSE(fs::exists(dir_));
}

TEST_F(SecretStoreTest, ErrorsNeverQuoteTheValue) {
  SecretStore store(dir_);
  std::string value = "sk-very-secret";
  value += '\0';
  auto r = store.set("k", value);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message().find("sk-very"), std::string::npos) << r.error().message();
}

// read_secret_value over a file holding `content`.
Result<SecretBytes> read_value(const std::string& dir, const std::string& content,
                               ReadUntil until = ReadUntil::kEnd) {
  std::string path = dir + "/input";
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  auto r = read_secret_value(fd, "input", until);
  ::close(fd);
  return r;
}

TEST_F(SecretStoreTest, InputLosesOneLineEndingAndKeepsEverythingElse) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"abc", "abc"},
      {"abc\n", "abc"},
      {"abc\r\n", "abc"},
      {"abc\n\n", "abc\n"},
      {" a b \n", " a b "},
      {"line1\nline2", "line1\nline2"},
      {std::string(kMaxSecretBytes, 'x') + "\r\n", std::string(kMaxSecretBytes, 'x')},
  };
  for (const auto& [in, want] : cases) {
    auto r = read_value(tmp_->path(), in);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->view(), want);
  }
  auto first = read_value(tmp_->path(), "typed\nmore", ReadUntil::kFirstLine);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->view(), "typed");
}

TEST_F(SecretStoreTest, InputThatIsEmptyHasNulOrIsTooLargeIsRefused) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty"},
      {"\n", "empty"},
      {std::string("a\0b", 3), "NUL"},
      {std::string(kMaxSecretBytes + 1, 'x'), "larger than 64 KiB"},
      {std::string(kMaxSecretBytes + 1, 'x') + "\n", "larger than 64 KiB"},
      {std::string(1 << 20, 'x'), "larger than 64 KiB"},
  };
  for (const auto& [in, why] : cases) {
    auto r = read_value(tmp_->path(), in);
    ASSERT_FALSE(r.ok()) << in.size();
    EXPECT_NE(r.error().message().find(why), std::string::npos) << r.error().message();
  }
}

TEST(SecretBytes, HoldsAtMostItsCapacityAndMovesOut) {
  SecretBytes b(4);
  EXPECT_TRUE(b.append("ab"));
  EXPECT_FALSE(b.append("cde"));
  EXPECT_EQ(b.view(), "ab");
  EXPECT_TRUE(b.append("cd"));
  b.shrink_to(3);
  EXPECT_EQ(b.view(), "abc");
  SecretBytes moved = std::move(b);
  EXPECT_EQ(moved.view(), "abc");
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move): a moved-from value is empty
  EXPECT_EQ(b.capacity(), 0u);
}

}  // namespace
}  // namespace hull::egress
