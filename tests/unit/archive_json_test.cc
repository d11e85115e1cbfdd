#include "image/archive_json.h"

#include <gtest/gtest.h>

#include <string>

namespace hull::image {
namespace {

std::string nested(size_t depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

std::string nested_objects(size_t depth) {
  std::string s;
  for (size_t i = 0; i < depth; ++i) s += R"({"a":)";
  return s + "1" + std::string(depth, '}');
}

bool refused_for_depth(const Result<nlohmann::json>& r) {
  return !r.ok() && r.error().message().find("nested deeper than 64 levels") != std::string::npos;
}

TEST(ArchiveJson, NestingUpToTheBoundParsesAndOneLevelMoreIsRefused) {
  EXPECT_TRUE(parse_archive_json(nested(kMaxArchiveJsonDepth), "doc").ok());
  EXPECT_TRUE(refused_for_depth(parse_archive_json(nested(kMaxArchiveJsonDepth + 1), "doc")));
  EXPECT_TRUE(parse_archive_json(nested_objects(kMaxArchiveJsonDepth), "doc").ok());
  EXPECT_TRUE(
      refused_for_depth(parse_archive_json(nested_objects(kMaxArchiveJsonDepth + 1), "doc")));
  EXPECT_TRUE(refused_for_depth(parse_archive_json(nested(1'000'000), "doc")));
}

// JSON text has no raw NUL bytes, and nlohmann takes one for the end of its
// input: "1\0<anything>" would parse as 1, so what follows the NUL would be
// read by nobody and checked by nothing. Such a document is refused whole.
TEST(ArchiveJson, ARawNulByteIsRefused) {
  const std::string text = std::string("{}") + '\0' + nested(kMaxArchiveJsonDepth + 1);
  auto r = parse_archive_json(text, "doc");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("NUL byte"), std::string::npos) << r.error().message();
  EXPECT_FALSE(parse_archive_json(std::string("{}") + '\0', "doc").ok());
}

TEST(ArchiveJson, BracketsInsideStringsDoNotCount) {
  const std::string brackets(1000, '[');
  EXPECT_TRUE(parse_archive_json(R"({"a":")" + brackets + R"("})", "doc").ok());
  // An escaped quote does not end the string...
  EXPECT_TRUE(parse_archive_json(R"(["\")" + brackets + R"("])", "doc").ok());
  // ...an escaped backslash does not hide the quote after it.
  EXPECT_TRUE(refused_for_depth(
      parse_archive_json(R"(["\\",)" + nested(kMaxArchiveJsonDepth) + "]", "doc")));
}

TEST(ArchiveJson, MalformedTextIsAnErrorNamingTheDocument) {
  for (const std::string text : {"", "{", "[1,]", "{\"a\":1} x", "// c\n{}", "]]]]"}) {
    auto r = parse_archive_json(text, "manifest.json");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.error().message().find("manifest.json is not valid JSON"), std::string::npos)
        << text;
  }
}

}  // namespace
}  // namespace hull::image
