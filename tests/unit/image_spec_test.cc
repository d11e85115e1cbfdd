#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "image/default_image.h"

namespace hull::image {
namespace {

TEST(ImageSpec, DefaultSpecIsBookwormMinbaseWithTheDocumentedPackages) {
  auto s = default_spec();
  EXPECT_EQ(s.suite, "bookworm");
  EXPECT_EQ(s.variant, "minbase");
  for (const char* p :
       {"bash", "coreutils", "python3", "git", "curl", "ca-certificates", "procps", "iproute2"})
    EXPECT_NE(std::find(s.packages.begin(), s.packages.end(), p), s.packages.end()) << p;
}

TEST(ImageSpec, KeyIsSixteenHexDigitsAndStable) {
  std::string k = spec_key(default_spec());
  EXPECT_EQ(k.size(), 16u);
  EXPECT_TRUE(std::all_of(k.begin(), k.end(),
                          [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }));
  EXPECT_EQ(k, spec_key(default_spec()));
  // Pinned: a change here invalidates every user's cached image, so it must
  // be deliberate (bump kBuilderVersion, update this value).
  EXPECT_EQ(k, "36611edc2fde12f3");
}

TEST(ImageSpec, KeyIgnoresPackageOrderAndDuplicates) {
  auto a = default_spec();
  auto b = a;
  std::reverse(b.packages.begin(), b.packages.end());
  b.packages.push_back(b.packages.front());
  EXPECT_EQ(spec_key(a), spec_key(b));
}

TEST(ImageSpec, KeyChangesWhenAnyInputChanges) {
  const auto base = default_spec();
  const std::string k = spec_key(base);
  auto added = base;
  added.packages.push_back("vim");
  EXPECT_NE(spec_key(added), k);
  auto removed = base;
  removed.packages.pop_back();
  EXPECT_NE(spec_key(removed), k);
  auto renamed = base;
  renamed.packages[0] += "x";
  EXPECT_NE(spec_key(renamed), k);
  auto suite = base;
  suite.suite = "trixie";
  EXPECT_NE(spec_key(suite), k);
  auto variant = base;
  variant.variant = "apt";
  EXPECT_NE(spec_key(variant), k);
}

TEST(ImageSpec, KeyFieldsCannotRunIntoEachOther) {
  DefaultImageSpec a{"test", "bookworm", "minbase", {"a,b"}};
  DefaultImageSpec b{"test", "bookworm", "minbase", {"a", "b"}};
  EXPECT_NE(spec_key(a), spec_key(b));
  DefaultImageSpec c{"test", "bookworm\nvariant=x", "minbase", {}};
  DefaultImageSpec d{"test", "bookworm", "x\nvariant=minbase", {}};
  EXPECT_NE(spec_key(c), spec_key(d));
}

}  // namespace
}  // namespace hull::image
