// tree_digest names a tree by its content: same content ⇒ same digest,
// whatever the write order or timestamps; any change a user could observe
// inside a sandbox ⇒ a different digest.
#include "image/tree_digest.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/temp_dir.h"

namespace hull::image {
namespace {

namespace fs = std::filesystem;

void write(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

std::string digest_of(const std::string& root) {
  auto d = tree_digest(root);
  EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().message());
  return d.ok() ? d->digest : "";
}

// a/ with two files, a symlink and an empty dir, written in `reverse` order.
void make_tree(const std::string& root, bool reverse) {
  if (reverse) {
    fs::create_directories(root + "/empty");
    ASSERT_EQ(::symlink("/etc/passwd", (root + "/link").c_str()), 0);
    write(root + "/a/z.txt", "zzz");
    write(root + "/a/b.txt", "bee");
  } else {
    write(root + "/a/b.txt", "bee");
    write(root + "/a/z.txt", "zzz");
    ASSERT_EQ(::symlink("/etc/passwd", (root + "/link").c_str()), 0);
    fs::create_directories(root + "/empty");
  }
  fs::permissions(root + "/a/b.txt", fs::perms(0644));
  fs::permissions(root + "/a/z.txt", fs::perms(0644));
}

TEST(TreeDigest, SameContentSameDigestWhateverOrderAndTime) {
  auto t1 = TempDir::create("/tmp", "hull-td-").value();
  auto t2 = TempDir::create("/tmp", "hull-td-").value();
  make_tree(t1.path(), false);
  make_tree(t2.path(), true);
  timeval old[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(::utimes((t2.path() + "/a/b.txt").c_str(), old), 0);
  std::string d1 = digest_of(t1.path()), d2 = digest_of(t2.path());
  EXPECT_EQ(d1.rfind("sha256:", 0), 0u);
  EXPECT_EQ(d1.size(), 7u + 64u);
  EXPECT_EQ(d1, d2);
  auto stats = tree_digest(t1.path()).value();
  EXPECT_EQ(stats.files, 2u);
  EXPECT_EQ(stats.bytes, 6u);
  EXPECT_EQ(stats.entries, 5u);  // a, a/b.txt, a/z.txt, empty, link
}

TEST(TreeDigest, EveryObservableChangeChangesIt) {
  auto t = TempDir::create("/tmp", "hull-td-").value();
  make_tree(t.path(), false);
  const std::string base = digest_of(t.path());
  std::string prev = base;
  auto changed = [&](const char* what) {
    std::string now = digest_of(t.path());
    EXPECT_NE(now, prev) << what;
    prev = now;
  };
  write(t.path() + "/a/b.txt", "BEE");
  changed("content");
  fs::permissions(t.path() + "/a/b.txt", fs::perms(0600));
  changed("mode");
  ASSERT_EQ(::chown((t.path() + "/a/b.txt").c_str(), 1234, 1234), 0);
  changed("owner");
  fs::remove(t.path() + "/link");
  ASSERT_EQ(::symlink("/etc/shadow", (t.path() + "/link").c_str()), 0);
  changed("symlink target");
  fs::rename(t.path() + "/a/z.txt", t.path() + "/a/y.txt");
  changed("name");
  fs::create_directories(t.path() + "/empty/sub");
  changed("new empty dir");
  ASSERT_EQ(::setxattr((t.path() + "/a/y.txt").c_str(), "user.hull", "1", 1, 0), 0);
  changed("xattr");
  EXPECT_NE(prev, base);
}

TEST(TreeDigest, SymlinksAreNotFollowedAndOddNamesAreUnambiguous) {
  auto t = TempDir::create("/tmp", "hull-td-").value();
  // A symlink to a directory outside: hashed as a link, not walked into.
  ASSERT_EQ(::symlink("/usr", (t.path() + "/usr-link").c_str()), 0);
  auto d = tree_digest(t.path()).value();
  EXPECT_EQ(d.entries, 1u);
  EXPECT_EQ(d.files, 0u);
  // "a b" + newline in a name must not collide with a differently split tree.
  auto u = TempDir::create("/tmp", "hull-td-").value();
  auto v = TempDir::create("/tmp", "hull-td-").value();
  write(u.path() + "/x\ny", "");
  write(v.path() + "/x", "");
  write(v.path() + "/y", "");
  EXPECT_NE(digest_of(u.path()), digest_of(v.path()));
}

TEST(TreeDigest, MissingRootIsAnErrorNamingIt) {
  auto d = tree_digest("/nonexistent/hull-root");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message().find("/nonexistent/hull-root"), std::string::npos);
}

}  // namespace
}  // namespace hull::image
