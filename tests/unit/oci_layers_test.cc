#include "image/oci_layers.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/sys.h"
#include "base/temp_dir.h"

namespace hull::image {
namespace {

namespace fs = std::filesystem;

enum class Compression { kNone, kGzip, kZstd };

// A layer tar built entry by entry with libarchive's writer, the way an image
// builder — or an attacker — would write it.
class Layer {
 public:
  Layer& file(std::string name, std::string data, mode_t mode = 0644) {
    return add({.name = std::move(name), .mode = mode, .data = std::move(data)});
  }
  Layer& dir(std::string name, mode_t mode = 0755) {
    return add({.name = std::move(name), .type = AE_IFDIR, .mode = mode});
  }
  Layer& symlink(std::string name, std::string target) {
    return add(
        {.name = std::move(name), .type = AE_IFLNK, .mode = 0777, .link = std::move(target)});
  }
  Layer& hardlink(std::string name, std::string target) {
    return add({.name = std::move(name), .link = std::move(target), .hard = true});
  }
  Layer& node(std::string name, unsigned type) {
    return add({.name = std::move(name), .type = type, .mode = 0666});
  }
  // Owner and mtime of the last entry added.
  Layer& owned(int64_t uid, int64_t gid) {
    entries_.back().uid = uid;
    entries_.back().gid = gid;
    return *this;
  }
  Layer& mtime(time_t t) {
    entries_.back().mtime = t;
    return *this;
  }

  // False when this libarchive cannot write the compression (test skips).
  bool write(const std::string& path, Compression c) const {
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    // Names as raw bytes (as many real layers have them), whatever the locale.
    archive_write_set_format_option(a, "pax", "hdrcharset", "BINARY");
    if (c == Compression::kGzip && archive_write_add_filter_gzip(a) != ARCHIVE_OK) return false;
    if (c == Compression::kZstd && archive_write_add_filter_zstd(a) != ARCHIVE_OK) return false;
    EXPECT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
    for (const auto& en : entries_) {
      archive_entry* e = archive_entry_new();
      archive_entry_copy_pathname(e, en.name.c_str());
      archive_entry_set_filetype(e, en.type);
      archive_entry_set_perm(e, en.mode);
      archive_entry_set_uid(e, en.uid);
      archive_entry_set_gid(e, en.gid);
      archive_entry_set_mtime(e, en.mtime, 0);
      if (en.type == AE_IFCHR || en.type == AE_IFBLK) archive_entry_set_rdev(e, makedev(1, 3));
      if (en.hard) archive_entry_copy_hardlink(e, en.link.c_str());
      if (en.type == AE_IFLNK) archive_entry_copy_symlink(e, en.link.c_str());
      archive_entry_set_size(e, static_cast<la_int64_t>(en.data.size()));
      EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
      if (!en.data.empty())
        EXPECT_EQ(archive_write_data(a, en.data.data(), en.data.size()),
                  static_cast<la_ssize_t>(en.data.size()));
      archive_entry_free(e);
    }
    EXPECT_EQ(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    return true;
  }

 private:
  struct Entry {
    std::string name;
    unsigned type = AE_IFREG;
    mode_t mode = 0644;
    std::string data;
    std::string link;
    bool hard = false;
    int64_t uid = 0, gid = 0;
    time_t mtime = 1'600'000'000;
  };
  Layer& add(Entry e) {
    entries_.push_back(std::move(e));
    return *this;
  }
  std::vector<Entry> entries_;
};

struct stat lstat_of(const std::string& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}

std::string slurp(const std::string& p) {
  auto r = sys::read_file(p);
  return r.ok() ? *r : "<" + r.error().message() + ">";
}

// Each test: <tmp>/root is the rootfs, <tmp>/sentinel a host directory next to
// it that must stay empty whatever a layer says.
class OciLayers : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = TempDir::create("/tmp", "hull-oci-");
    ASSERT_TRUE(t.ok()) << t.error().message();
    tmp_.emplace(std::move(t).value());
    root_ = tmp_->path() + "/root";
    sentinel_ = tmp_->path() + "/sentinel";
    ASSERT_TRUE(sys::mkdir_p(root_, 0755).ok());
    ASSERT_TRUE(sys::mkdir_p(sentinel_, 0777).ok());
  }
  void TearDown() override {
    if (tmp_) {
      EXPECT_TRUE(fs::is_empty(sentinel_)) << "a layer wrote outside its root";
      EXPECT_FALSE(fs::exists(tmp_->path() + "/escape")) << "a layer wrote outside its root";
    }
  }

  Result<LayerStats> apply(const Layer& l, Compression c = Compression::kNone,
                           const LayerLimits& limits = {}) {
    std::string path = tmp_->path() + "/layer" + std::to_string(n_++) + ".tar";
    if (!l.write(path, c)) return make_error("write layer", "compression unsupported");
    return apply_layer(root_, path, limits);
  }
  std::string in_root(const std::string& rel) const { return root_ + "/" + rel; }

  std::optional<TempDir> tmp_;
  std::string root_, sentinel_;
  int n_ = 0;
};

TEST_F(OciLayers, AppliesFilesDirectoriesSymlinksAndHardlinksWithModesOwnersAndTimes) {
  Layer l;
  l.dir("./etc").file("./etc/hostname", "box\n").mtime(1'500'000'000);
  l.dir("usr/bin", 0711).mtime(1'400'000'000);  // parent "usr" is implicit
  l.file("usr/bin/su", "#!su", 04755).owned(1234, 5678);
  l.symlink("usr/bin/sh", "dash").hardlink("usr/bin/su2", "usr/bin/su");
  l.dir("secret", 0700).mtime(1'300'000'000).file("secret/key", "k", 0600);
  auto r = apply(l);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->entries, 8u);
  EXPECT_EQ(r->bytes, 9u);

  EXPECT_EQ(slurp(in_root("etc/hostname")), "box\n");
  EXPECT_EQ(lstat_of(in_root("etc/hostname")).st_mtim.tv_sec, 1'500'000'000);
  EXPECT_EQ(lstat_of(in_root("usr")).st_mode & 07777, 0755u);
  EXPECT_EQ(lstat_of(in_root("usr/bin")).st_mode & 07777, 0711u);
  EXPECT_EQ(lstat_of(in_root("usr/bin")).st_mtim.tv_sec, 1'400'000'000);
  auto su = lstat_of(in_root("usr/bin/su"));
  EXPECT_EQ(su.st_mode & 07777, 04755u);
  if (::geteuid() == 0) {
    EXPECT_EQ(su.st_uid, 1234u);
    EXPECT_EQ(su.st_gid, 5678u);
  }
  EXPECT_EQ(fs::read_symlink(in_root("usr/bin/sh")), "dash");
  auto su2 = lstat_of(in_root("usr/bin/su2"));
  EXPECT_EQ(su2.st_ino, su.st_ino);
  EXPECT_EQ(su2.st_nlink, 2u);
  // Directory times survive the children written after them.
  EXPECT_EQ(lstat_of(in_root("secret")).st_mtim.tv_sec, 1'300'000'000);
  EXPECT_EQ(lstat_of(in_root("secret")).st_mode & 07777, 0700u);
  EXPECT_EQ(slurp(in_root("secret/key")), "k");
}

TEST_F(OciLayers, WhiteoutDeletesLowerFileAndOpaqueDirectoryHidesLowerContentOnly) {
  Layer lower;
  lower.file("top", "1").dir("a").file("a/keep", "1").file("a/gone", "1");
  lower.dir("d").file("d/old", "1").dir("d/sub").file("d/sub/old", "1").dir("d/kept");
  ASSERT_TRUE(apply(lower).ok());

  Layer upper;
  upper.file(".wh.top", "").file("a/.wh.gone", "");
  upper.dir("d").file("d/before", "2").dir("d/kept").file("d/kept/new", "2");
  upper.file("d/.wh..wh..opq", "").file("d/after", "2");
  auto r = apply(upper);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->whiteouts, 3u);

  EXPECT_FALSE(fs::exists(in_root("top")));
  EXPECT_FALSE(fs::exists(in_root("a/gone")));
  EXPECT_TRUE(fs::exists(in_root("a/keep")));
  EXPECT_FALSE(fs::exists(in_root("d/old")));
  EXPECT_FALSE(fs::exists(in_root("d/sub")));
  EXPECT_TRUE(fs::exists(in_root("d/before")));  // same layer, before the marker
  EXPECT_TRUE(fs::exists(in_root("d/after")));
  EXPECT_TRUE(fs::exists(in_root("d/kept/new")));
  for (const auto& e : fs::recursive_directory_iterator(root_))
    EXPECT_EQ(e.path().filename().string().find(".wh."), std::string::npos) << e.path();
}

TEST_F(OciLayers, WhiteoutNeverHidesAFileOfItsOwnLayer) {
  ASSERT_TRUE(apply(Layer().file("x", "same layer").file(".wh.x", "")).ok());
  EXPECT_EQ(slurp(in_root("x")), "same layer");
}

TEST_F(OciLayers, WhiteoutOfADirectoryRemovesItsTreeWithoutFollowingSymlinks) {
  ASSERT_TRUE(fs::exists(sentinel_));
  ASSERT_TRUE(sys::write_file_atomic(sentinel_ + "/../keep-me", "host").ok());
  Layer lower;
  lower.dir("d").symlink("d/host", tmp_->path()).file("d/f", "1");
  ASSERT_TRUE(apply(lower).ok());
  ASSERT_TRUE(apply(Layer().file(".wh.d", "")).ok());
  EXPECT_FALSE(fs::exists(in_root("d")));
  EXPECT_EQ(slurp(tmp_->path() + "/keep-me"), "host");
}

TEST_F(OciLayers, DotDotNamesAreRejectedNamingTheEntry) {
  for (std::string name : {"../escape", "a/../../escape", "./../sentinel/pwned", "a/..", ".."}) {
    auto r = apply(Layer().file(name, "pwned"));
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_NE(r.error().message().find("\"" + name + "\""), std::string::npos)
        << r.error().message();
    EXPECT_NE(r.error().message().find("\"..\""), std::string::npos) << r.error().message();
  }
}

TEST_F(OciLayers, SymlinkToAHostDirectoryIsNeverWrittenThrough) {
  // "evil -> /tmp/.../sentinel": resolved in the root, where it does not exist.
  auto r = apply(Layer().symlink("evil", sentinel_).file("evil/pwned", "x"));
  EXPECT_FALSE(r.ok());
  // Once the image has that directory itself, the write lands there.
  Layer l;
  l.dir(sentinel_.substr(1)).symlink("evil2", sentinel_).file("evil2/pwned", "x");
  l.symlink("up", "../../../../../../../..").file("up" + sentinel_ + "/pwned2", "x");
  r = apply(l);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(fs::exists(root_ + sentinel_ + "/pwned"));
  EXPECT_TRUE(fs::exists(root_ + sentinel_ + "/pwned2"));
}

TEST_F(OciLayers, SymlinkedParentResolvesAsTheImageSeesIt) {
  // "hostetc -> /etc" then "hostetc/passwd": root/etc/passwd, never the host's.
  auto before = lstat_of("/etc/passwd");
  Layer l;
  l.dir("etc").symlink("hostetc", "/etc").file("hostetc/passwd", "evil");
  l.dir("usr/lib").symlink("lib", "usr/lib").file("lib/libc.so", "elf");
  auto r = apply(l);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(slurp(in_root("etc/passwd")), "evil");
  EXPECT_EQ(slurp(in_root("usr/lib/libc.so")), "elf");
  EXPECT_TRUE(fs::is_symlink(in_root("lib")));
  auto after = lstat_of("/etc/passwd");
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
}

TEST_F(OciLayers, AbsoluteSymlinkInsideTheImageStaysASymlink) {
  ASSERT_TRUE(apply(Layer().symlink("usr/bin/python", "/usr/bin/python3.11")).ok());
  EXPECT_TRUE(fs::is_symlink(in_root("usr/bin/python")));
  EXPECT_EQ(fs::read_symlink(in_root("usr/bin/python")), "/usr/bin/python3.11");
  // A symlink over a lower file replaces it; it does not write through.
  ASSERT_TRUE(apply(Layer().file("target", "t").symlink("target", sentinel_)).ok());
  EXPECT_EQ(fs::read_symlink(in_root("target")), sentinel_);
}

TEST_F(OciLayers, HardlinkToAHostPathResolvesInsideTheRoot) {
  auto r = apply(Layer().hardlink("stolen", "/etc/passwd"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("hard link target"), std::string::npos);
  EXPECT_FALSE(fs::exists(in_root("stolen")));
  r = apply(Layer().symlink("h", "/etc").hardlink("stolen2", "h/shadow"));
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(fs::exists(in_root("stolen2")));
  r = apply(Layer().hardlink("x", "../sentinel/f"));
  EXPECT_FALSE(r.ok());

  r = apply(Layer().file("etc/passwd", "root:x:0:0::/root:/bin/sh\n").hardlink("s", "/etc/passwd"));
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(lstat_of(in_root("s")).st_ino, lstat_of(in_root("etc/passwd")).st_ino);
  EXPECT_NE(lstat_of(in_root("s")).st_ino, lstat_of("/etc/passwd").st_ino);
}

TEST_F(OciLayers, NewFileNeverWritesThroughAnOldHardlink) {
  ASSERT_TRUE(apply(Layer().file("a", "orig").hardlink("b", "a")).ok());
  ASSERT_TRUE(apply(Layer().file("b", "new")).ok());
  EXPECT_EQ(slurp(in_root("a")), "orig");
  EXPECT_EQ(slurp(in_root("b")), "new");
}

TEST_F(OciLayers, EntriesReplaceEntriesOfOtherKinds) {
  ASSERT_TRUE(apply(Layer().dir("x").file("x/f", "1").file("y", "1")).ok());
  ASSERT_TRUE(apply(Layer().file("x", "now a file").dir("y")).ok());
  EXPECT_EQ(slurp(in_root("x")), "now a file");
  EXPECT_TRUE(fs::is_directory(in_root("y")));
}

TEST_F(OciLayers, DeviceNodesAndFifosAreSkippedAndCounted) {
  auto r = apply(Layer().node("dev/null", AE_IFCHR).node("dev/sda", AE_IFBLK).node("p", AE_IFIFO));
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->skipped, 3u);
  EXPECT_FALSE(fs::exists(in_root("dev/null")));
  EXPECT_FALSE(fs::exists(in_root("dev/sda")));
  EXPECT_FALSE(fs::exists(in_root("p")));
}

TEST_F(OciLayers, ByteEntryAndNameLimitsAreErrors) {
  Layer l;
  l.file("a", std::string(600, 'x')).file("b", std::string(600, 'y'));
  auto r = apply(l, Compression::kNone, {.max_bytes = 1000});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("limit of 1000 bytes"), std::string::npos)
      << r.error().message();
  r = apply(l, Compression::kNone, {.max_entries = 1});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("more than 1 entries"), std::string::npos);
  r = apply(l, Compression::kNone, {.max_name_bytes = 1});
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(apply(l, Compression::kNone, {.max_entries = 2, .max_bytes = 1200}).ok());
}

TEST_F(OciLayers, OneBudgetHoldsForAllLayersOfAnImage) {
  const std::string a = tmp_->path() + "/a.tar", b = tmp_->path() + "/b.tar";
  ASSERT_TRUE(Layer().file("a", std::string(600, 'x')).write(a, Compression::kNone));
  ASSERT_TRUE(Layer().file("b", std::string(600, 'y')).write(b, Compression::kNone));
  UniqueFd root = sys::open(root_, O_RDONLY | O_DIRECTORY).value();
  LayerBudget budget{{.max_bytes = 1000}};
  auto first = apply_layer_fd(root, sys::open(a, O_RDONLY).value(), budget);
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_EQ(budget.entries, 1u);
  EXPECT_EQ(budget.bytes, 600u);
  // Each layer alone is within the limit; together they are not.
  auto second = apply_layer_fd(root, sys::open(b, O_RDONLY).value(), budget);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message().find("limit of 1000 bytes"), std::string::npos)
      << second.error().message();
  EXPECT_TRUE(apply_layer(root_, b, {.max_bytes = 1000}).ok())
      << "a layer on its own has its own budget";
}

TEST_F(OciLayers, GzipLayerApplies) {
  auto r = apply(Layer().dir("etc").file("etc/os-release", "ID=test\n"), Compression::kGzip);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(slurp(in_root("etc/os-release")), "ID=test\n");
}

TEST_F(OciLayers, ZstdLayerApplies) {
  Layer l;
  l.file("z", "zstd");
  if (!l.write(tmp_->path() + "/probe.tar.zst", Compression::kZstd))
    GTEST_SKIP() << "this libarchive cannot write zstd";
  auto r = apply(l, Compression::kZstd);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(slurp(in_root("z")), "zstd");
}

TEST_F(OciLayers, BadWhiteoutsAreRejected) {
  for (std::string name : {".wh...", "a/.wh..", ".wh."}) {
    auto r = apply(Layer().file(name, ""));
    EXPECT_FALSE(r.ok()) << name;
  }
}

TEST_F(OciLayers, OverlongNamesAndNamesOfTheRootAreRejected) {
  std::string deep;
  while (deep.size() < PATH_MAX) deep += "aaaaaaaa/";
  EXPECT_FALSE(apply(Layer().file(deep + "f", "")).ok());
  EXPECT_FALSE(apply(Layer().file(std::string(NAME_MAX + 1, 'a'), "")).ok());
  EXPECT_FALSE(apply(Layer().file("./", "x")).ok());
  EXPECT_FALSE(apply(Layer().symlink("/", "/etc")).ok());
  EXPECT_TRUE(apply(Layer().dir("./", 0755)).ok());  // the root's own entry
}

TEST_F(OciLayers, LeadingSlashIsRelativeToTheRoot) {
  ASSERT_TRUE(apply(Layer().file("/etc/motd", "hi").file(sentinel_ + "/x", "x")).ok());
  EXPECT_EQ(slurp(in_root("etc/motd")), "hi");
  EXPECT_TRUE(fs::exists(root_ + sentinel_ + "/x"));
}

TEST_F(OciLayers, ErrorsShowUntrustedNamesEscaped) {
  auto r = apply(Layer().file("bad\nname/../x", ""));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message().find('\n'), std::string::npos);
  EXPECT_NE(r.error().message().find("bad\\x0aname"), std::string::npos) << r.error().message();
}

TEST_F(OciLayers, NonAsciiNamesAreKeptAsBytes) {
  ASSERT_TRUE(apply(Layer().file("caf\xc3\xa9", "x")).ok());
  EXPECT_TRUE(fs::exists(in_root("caf\xc3\xa9")));
}

TEST_F(OciLayers, GarbageAndTruncatedLayersAreErrors) {
  std::string garbage = tmp_->path() + "/garbage.tar";
  ASSERT_TRUE(sys::write_file_atomic(garbage, std::string(4096, '\x7f')).ok());
  EXPECT_FALSE(apply_layer(root_, garbage).ok());

  std::string whole = tmp_->path() + "/whole.tar";
  ASSERT_TRUE(Layer().file("big", std::string(100000, 'b')).write(whole, Compression::kNone));
  fs::resize_file(whole, 50000);
  EXPECT_FALSE(apply_layer(root_, whole).ok());
  EXPECT_FALSE(apply_layer(root_, tmp_->path() + "/missing.tar").ok());
}

}  // namespace
}  // namespace hull::image
