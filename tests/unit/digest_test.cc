#include "base/digest.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "base/sys.h"
#include "base/temp_dir.h"

namespace hull {
namespace {

// FIPS 180-2 / NIST CAVS known-answer vectors.
TEST(Digest, Sha256MatchesKnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Digest, FileDigestEqualsDigestOfItsContent) {
  auto dir = TempDir::create("/tmp", "hull-digest-");
  ASSERT_TRUE(dir.ok());
  // Larger than the 64 KiB read buffer so the streaming path is exercised.
  std::string content(200 * 1024 + 7, 'x');
  content[12345] = 'y';
  std::string path = dir->path() + "/f";
  ASSERT_TRUE(sys::write_file_atomic(path, content).ok());
  auto d = sha256_file_hex(path);
  ASSERT_TRUE(d.ok()) << d.error().message();
  EXPECT_EQ(*d, sha256_hex(content));
}

TEST(Digest, MissingFileIsAnErrorNamingThePath) {
  auto d = sha256_file_hex("/nonexistent/hull-digest-test");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message().find("/nonexistent/hull-digest-test"), std::string::npos);
}

}  // namespace
}  // namespace hull
