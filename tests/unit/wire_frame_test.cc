// Frame codec: layout, round trips, and every header rejection.
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "wire/frame.h"

namespace hull::wire {
namespace {

std::array<std::byte, kHeaderSize> header(uint32_t len, uint8_t type, uint8_t flags,
                                          uint16_t reserved, uint32_t stream) {
  std::array<std::byte, kHeaderSize> h{};
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) h[at + i] = std::byte(v >> (24 - 8 * i));
  };
  put32(0, len);
  h[4] = std::byte(type);
  h[5] = std::byte(flags);
  h[6] = std::byte(reserved >> 8);
  h[7] = std::byte(reserved & 0xff);
  put32(8, stream);
  return h;
}

struct HeaderCase {
  const char* name;
  uint32_t len;
  uint8_t type;
  uint8_t flags;
  uint16_t reserved;
  uint32_t stream;
  const char* error;  // nullptr: valid
};

const HeaderCase kHeaderCases[] = {
    {"hello on stream 0", 10, 1, 0, 0, 0, nullptr},
    {"message on stream 0", 10, 3, 0, 0, 0, nullptr},
    {"message on a stream", 10, 3, 0, 0, 5, nullptr},
    {"open on a stream", 10, 2, 0, 0, 1, nullptr},
    {"data stdout", 1, 4, 1, 0, 2, nullptr},
    {"data stderr max payload", kMaxPayload, 4, 2, 0, 2, nullptr},
    {"window of 4 bytes", 4, 5, 0, 0, 3, nullptr},
    {"eof stdin", 0, 6, 0, 0, 3, nullptr},
    {"reset with 1 KiB reason", 1024, 7, 0, 0, 3, nullptr},
    {"fin", 0, 8, 0, 0, 3, nullptr},
    {"length over max", kMaxPayload + 1, 3, 0, 0, 0, "exceeds"},
    {"4 GiB length", 0xffffffffu, 4, 0, 0, 1, "exceeds"},
    {"type 0", 0, 0, 0, 0, 0, "unknown frame type"},
    {"type 9", 0, 9, 0, 0, 0, "unknown frame type"},
    {"type 255", 0, 255, 0, 0, 0, "unknown frame type"},
    {"reserved set", 0, 3, 0, 1, 0, "reserved"},
    {"reserved high bit", 0, 3, 0, 0x8000, 0, "reserved"},
    {"hello on stream 1", 10, 1, 0, 0, 1, "hello on a stream other than 0"},
    {"hello with flags", 10, 1, 1, 0, 0, "invalid flags"},
    {"message with flags", 10, 3, 1, 0, 0, "invalid flags"},
    {"open on stream 0", 10, 2, 0, 0, 0, "stream 0"},
    {"data on stream 0", 1, 4, 1, 0, 0, "data on stream 0"},
    {"eof on stream 0", 0, 6, 1, 0, 0, "eof on stream 0"},
    {"window on stream 0", 4, 5, 0, 0, 0, "window on stream 0"},
    {"reset on stream 0", 0, 7, 0, 0, 0, "reset on stream 0"},
    {"fin on stream 0", 0, 8, 0, 0, 0, "stream 0"},
    {"data fd 3", 1, 4, 3, 0, 1, "invalid flags"},
    {"data fd 255", 1, 4, 255, 0, 1, "invalid flags"},
    {"empty data", 0, 4, 1, 0, 1, "empty data"},
    {"eof fd 3", 0, 6, 3, 0, 1, "invalid flags"},
    {"eof with payload", 1, 6, 0, 0, 1, "eof with a payload"},
    {"window 3 bytes", 3, 5, 0, 0, 1, "not 4 bytes"},
    {"window 5 bytes", 5, 5, 0, 0, 1, "not 4 bytes"},
    {"window with flags", 4, 5, 1, 0, 1, "invalid flags"},
    {"reset over 1 KiB", 1025, 7, 0, 0, 1, "over 1 KiB"},
    {"reset with flags", 0, 7, 2, 0, 1, "invalid flags"},
    {"fin with payload", 1, 8, 0, 0, 1, "fin with a payload"},
    {"open with flags", 2, 2, 1, 0, 1, "invalid flags"},
};

TEST(WireFrame, HeaderValidationFollowsTheTable) {
  for (const auto& c : kHeaderCases) {
    SCOPED_TRACE(c.name);
    auto h = header(c.len, c.type, c.flags, c.reserved, c.stream);
    uint32_t len = 0;
    auto r = parse_header(h, &len);
    if (c.error == nullptr) {
      ASSERT_TRUE(r.ok()) << r.error().message();
      EXPECT_EQ(len, c.len);
      EXPECT_EQ(static_cast<uint8_t>(r->type), c.type);
      EXPECT_EQ(r->flags, c.flags);
      EXPECT_EQ(r->stream, c.stream);
    } else {
      ASSERT_FALSE(r.ok());
      EXPECT_NE(r.error().message().find(c.error), std::string::npos) << r.error().message();
    }
  }
}

TEST(WireFrame, DecoderRejectsEveryBadHeaderBeforeItsPayloadArrives) {
  for (const auto& c : kHeaderCases) {
    if (c.error == nullptr) continue;
    SCOPED_TRACE(c.name);
    FrameDecoder dec;
    auto h = header(c.len, c.type, c.flags, c.reserved, c.stream);
    dec.feed(h);
    auto f = dec.next();
    ASSERT_TRUE(f.has_value());
    EXPECT_FALSE(f->ok());
  }
}

TEST(WireFrame, EncodesTheDocumentedBigEndianLayout) {
  std::vector<std::byte> payload{std::byte{'h'}, std::byte{'i'}};
  auto bytes = encode_frame(Frame{FrameType::kData, 2, 0x01020304, payload});
  auto expected = header(2, 4, 2, 0, 0x01020304);
  ASSERT_EQ(bytes.size(), kHeaderSize + 2);
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), bytes.begin()));
  EXPECT_EQ(bytes[12], std::byte{'h'});
}

TEST(WireFrame, RoundTripsFramesFedOneByteAtATime) {
  std::vector<std::byte> wire;
  std::vector<std::byte> big(kMaxPayload, std::byte{0x5a});
  append_frame(wire, FrameType::kHello, 0, 0, std::vector<std::byte>(3, std::byte{'x'}));
  append_frame(wire, FrameType::kData, 1, 7, big);
  append_frame(wire, FrameType::kWindow, 0, 7, encode_window(0xdeadbeef));
  append_frame(wire, FrameType::kEof, 2, 7, {});
  append_frame(wire, FrameType::kFin, 0, 7, {});

  FrameDecoder dec;
  std::vector<Frame> got;
  for (std::byte b : wire) {
    dec.feed(std::span<const std::byte>(&b, 1));
    while (auto f = dec.next()) {
      ASSERT_TRUE(f->ok()) << f->error().message();
      got.push_back(std::move(**f));
    }
  }
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].type, FrameType::kHello);
  EXPECT_EQ(got[1].payload, big);
  bool ok = false;
  EXPECT_EQ(decode_window(got[2].payload, &ok), 0xdeadbeefu);
  EXPECT_TRUE(ok);
  EXPECT_EQ(got[3].flags, 2);
  EXPECT_EQ(got[4].type, FrameType::kFin);
  EXPECT_EQ(dec.buffered(), 0u);
}

TEST(WireFrame, DecoderStaysFailedAndStopsBuffering) {
  FrameDecoder dec;
  dec.feed(header(0xffffffffu, 4, 0, 0, 1));
  auto f = dec.next();
  ASSERT_TRUE(f && !f->ok());
  std::vector<std::byte> more(1000, std::byte{0});
  dec.feed(more);
  EXPECT_EQ(dec.buffered(), 0u);
  auto g = dec.next();
  ASSERT_TRUE(g && !g->ok());
}

TEST(WireFrame, DecoderWaitsForAWholeFrame) {
  FrameDecoder dec;
  EXPECT_FALSE(dec.next().has_value());
  dec.feed(header(5, 3, 0, 0, 0));
  EXPECT_FALSE(dec.next().has_value());
  std::vector<std::byte> four(4, std::byte{'{'});
  dec.feed(four);
  EXPECT_FALSE(dec.next().has_value());
}

TEST(WireFrame, WindowPayloadMustBeFourBytes) {
  bool ok = true;
  std::vector<std::byte> three(3);
  EXPECT_EQ(decode_window(three, &ok), 0u);
  EXPECT_FALSE(ok);
}

}  // namespace
}  // namespace hull::wire
