#include "image/layer_digest.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>

#include "base/digest.h"
#include "base/sys.h"
#include "base/temp_dir.h"

namespace hull::image {
namespace {

// `data` written as one archive with libarchive: a tar of one file, or
// ("raw" format) the bytes themselves — gzip'ed when asked.
void write_archive(const std::string& path, const std::string& data, bool tar, bool gzip) {
  archive* a = archive_write_new();
  ASSERT_EQ(tar ? archive_write_set_format_pax_restricted(a) : archive_write_set_format_raw(a),
            ARCHIVE_OK);
  if (gzip) ASSERT_EQ(archive_write_add_filter_gzip(a), ARCHIVE_OK);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  archive_entry* e = archive_entry_new();
  archive_entry_copy_pathname(e, "file");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
  ASSERT_EQ(archive_write_data(a, data.data(), data.size()), static_cast<la_ssize_t>(data.size()));
  archive_entry_free(e);
  ASSERT_EQ(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

class LayerDigest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = TempDir::create("/tmp", "hull-layer-digest-");
    ASSERT_TRUE(t.ok()) << t.error().message();
    tmp_.emplace(std::move(*t));
    tar_ = tmp_->path() + "/layer.tar";
    write_archive(tar_, "hello, layer\n", /*tar=*/true, /*gzip=*/false);
  }
  UniqueFd open(const std::string& path) { return sys::open(path, O_RDONLY).value(); }

  std::optional<TempDir> tmp_;
  std::string tar_;
};

TEST_F(LayerDigest, AStoredTarsBlobDigestIsItsDiffId) {
  LayerBudget budget;
  auto d = digest_layer(open(tar_), budget);
  ASSERT_TRUE(d.ok()) << d.error().message();
  EXPECT_EQ(d->blob, sha256_file_hex(tar_).value());
  EXPECT_EQ(d->diff_id, d->blob);
  EXPECT_EQ(budget.tar_bytes, std::filesystem::file_size(tar_));
}

TEST_F(LayerDigest, AGzipLayersDiffIdIsTheDigestOfTheTarInside) {
  const std::string gz = tmp_->path() + "/layer.tar.gz";
  write_archive(gz, sys::read_file(tar_).value(), /*tar=*/false, /*gzip=*/true);
  LayerBudget budget;
  auto d = digest_layer(open(gz), budget);
  ASSERT_TRUE(d.ok()) << d.error().message();
  EXPECT_EQ(d->blob, sha256_file_hex(gz).value());
  EXPECT_EQ(d->diff_id, sha256_file_hex(tar_).value());
  EXPECT_NE(d->blob, d->diff_id);
}

TEST_F(LayerDigest, TheFdStaysAtItsStartSoTheSameFdIsApplied) {
  UniqueFd layer = open(tar_);
  LayerBudget budget;
  ASSERT_TRUE(digest_layer(layer, budget).ok());
  EXPECT_EQ(::lseek(layer.get(), 0, SEEK_CUR), 0);
  ASSERT_TRUE(sys::mkdir_p(tmp_->path() + "/root", 0755).ok());
  UniqueFd root = sys::open(tmp_->path() + "/root", O_RDONLY | O_DIRECTORY).value();
  auto st = apply_layer_fd(root, layer, budget);
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_EQ(sys::read_file(tmp_->path() + "/root/file").value(), "hello, layer\n");
}

TEST_F(LayerDigest, DecompressedBytesCountAgainstTheImagesBudget) {
  const uint64_t size = std::filesystem::file_size(tar_);
  LayerBudget budget{{.max_tar_bytes = size + size / 2}};
  ASSERT_TRUE(digest_layer(open(tar_), budget).ok());
  auto second = digest_layer(open(tar_), budget);  // the same image's next layer
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message().find("decompress to more than"), std::string::npos)
      << second.error().message();
}

TEST_F(LayerDigest, GarbageDigestsAsItsBytes) {
  // Not a tar: the digests still come out (apply_layer refuses it next).
  const std::string junk = tmp_->path() + "/junk";
  ASSERT_TRUE(sys::write_file_atomic(junk, std::string(5000, '\x7f')).ok());
  LayerBudget budget;
  auto d = digest_layer(open(junk), budget);
  ASSERT_TRUE(d.ok()) << d.error().message();
  EXPECT_EQ(d->blob, sha256_file_hex(junk).value());
  EXPECT_EQ(d->diff_id, d->blob);
}

}  // namespace
}  // namespace hull::image
