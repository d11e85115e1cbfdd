// Where a forwarded request's body ends: exactly at the byte where the next
// request starts, however the bytes are cut, and never past a malformed chunk.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "egress/request_body.h"

namespace hull::egress {
namespace {

using namespace std::string_literals;

ProxyRequest chunked() {
  ProxyRequest r;
  r.protocol = ProxyProtocol::kHttpForward;
  r.body = BodyFraming::kChunked;
  return r;
}

ProxyRequest with_length(uint64_t n) {
  ProxyRequest r;
  r.protocol = ProxyProtocol::kHttpForward;
  r.body = BodyFraming::kContentLength;
  r.content_length = n;
  return r;
}

struct Framed {
  bool ok = true;
  bool finished = false;
  size_t end = 0;        // bytes of the input that were body
  std::string upstream;  // what the framer let through to the origin
  bool operator==(const Framed&) const = default;
};

Framed frame(const ProxyRequest& r, std::string_view bytes, std::vector<size_t> cuts) {
  RequestBodyFramer framer(r);
  Framed out;
  size_t at = 0;
  cuts.push_back(bytes.size());
  for (size_t end : cuts) {
    if (end < at) continue;
    auto p = framer.feed(bytes.substr(at, end - at), out.upstream);
    if (!p.ok()) return Framed{false, false, 0, out.upstream};
    EXPECT_LE(p->used, end - at);
    out.end = at + p->used;
    EXPECT_LE(out.upstream.size(), out.end);
    EXPECT_EQ(out.upstream, bytes.substr(0, out.upstream.size())) << "forwards the bytes unchanged";
    if (p->finished) {
      out.finished = true;
      EXPECT_EQ(out.upstream, bytes.substr(0, out.end)) << "a finished body is forwarded whole";
      return out;
    }
    EXPECT_EQ(p->used, end - at) << "an unfinished body takes every byte";
    at = end;
  }
  return out;
}

// The framing of `bytes` fed whole, checked against every single cut and byte-by-byte feeding.
Framed frame_every_way(const ProxyRequest& r, std::string_view bytes) {
  Framed whole = frame(r, bytes, {});
  const size_t stride = bytes.size() <= 4096 ? 1 : bytes.size() / 512;
  for (size_t cut = 0; cut <= bytes.size(); cut += stride) {
    Framed split = frame(r, bytes, {cut});
    EXPECT_TRUE(split == whole) << "cut at " << cut;
    if (split != whole) break;
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < bytes.size(); ++i) every.push_back(i);
  EXPECT_TRUE(frame(r, bytes, every) == whole) << "byte by byte";
  return whole;
}

TEST(EgressRequestBody, AContentLengthBodyEndsAfterThatManyBytes) {
  Framed f = frame_every_way(with_length(5), "helloGET http://next/ HTTP/1.1\r\n");
  EXPECT_TRUE(f.ok);
  EXPECT_TRUE(f.finished);
  EXPECT_EQ(f.end, 5u);
}

TEST(EgressRequestBody, NoBodyOrAZeroLengthOneIsFinishedAtOnce) {
  ProxyRequest none;
  for (const ProxyRequest& r : {none, with_length(0)}) {
    RequestBodyFramer framer(r);
    EXPECT_TRUE(framer.finished());
    std::string upstream;
    auto p = framer.feed("GET ...", upstream);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->used, 0u);
    EXPECT_EQ(upstream, "");
    EXPECT_TRUE(p->finished);
  }
}

TEST(EgressRequestBody, AnUnfinishedBodyTakesEverything) {
  Framed f = frame_every_way(with_length(1u << 30), "some of a big upload");
  EXPECT_FALSE(f.finished);
  EXPECT_EQ(f.end, 20u);
}

struct ChunkedCase {
  const char* name;
  std::string body;  // one whole chunked body, then "NEXT" is appended
};

const ChunkedCase kChunkedBodies[] = {
    {"empty", "0\r\n\r\n"},
    {"one_chunk", "5\r\nhello\r\n0\r\n\r\n"},
    {"two_chunks", "5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n"},
    {"upper_case_hex_and_leading_zeros", "00A\r\n0123456789\r\n000\r\n\r\n"},
    {"extensions", "5;name=value;q=\"a b\"\r\nhello\r\n0;last\r\n\r\n"},
    {"trailers", "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-More: 1\r\n\r\n"},
    {"data_that_looks_like_the_end", "9\r\n0\r\n\r\nGET \r\n0\r\n\r\n"},
    {"binary_data", "4\r\n\0\r\n\xff\r\n0\r\n\r\n"s},
};

class EgressChunkedBody : public ::testing::TestWithParam<ChunkedCase> {};

TEST_P(EgressChunkedBody, EndsRightBeforeTheNextRequest) {
  const ChunkedCase& c = GetParam();
  Framed f = frame_every_way(chunked(), c.body + "NEXT");
  EXPECT_TRUE(f.ok);
  EXPECT_TRUE(f.finished);
  EXPECT_EQ(f.end, c.body.size());
}

INSTANTIATE_TEST_SUITE_P(Egress, EgressChunkedBody, ::testing::ValuesIn(kChunkedBodies),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(EgressRequestBody, MalformedChunkFramingIsAnErrorWhereverTheBytesAreCut) {
  const std::string cases[] = {
      "x\r\nhello\r\n0\r\n\r\n",                                         // size not hex
      "5\r\nhelloXX0\r\n\r\n",                                           // no CRLF after the data
      "5\nhello\n0\n\n\r\n",                                             // bare LF
      "10000000000000000\r\n",                                           // size over 64 bits
      "5 \r\nhello\r\n0\r\n\r\n",                                        // space after the size
      "0\r\nContent-Length: 5\r\n\r\n",                                  // framing in the trailers
      "1;" + std::string(kMaxChunkFraming, 'a') + "\r\nx\r\n0\r\n\r\n",  // endless size line
      "0\r\n" + std::string(kMaxChunkFraming, 'a'),                      // endless trailers
  };
  for (const std::string& body : cases) {
    SCOPED_TRACE(body.substr(0, 40));
    Framed f = frame_every_way(chunked(), body);
    EXPECT_FALSE(f.ok);
  }
}

TEST(EgressRequestBody, AFailedFramerStaysFailed) {
  RequestBodyFramer framer(chunked());
  std::string upstream;
  EXPECT_FALSE(framer.feed("zz\r\n", upstream).ok());
  EXPECT_FALSE(framer.feed("0\r\n\r\n", upstream).ok());
  EXPECT_EQ(upstream, "");
}

TEST(EgressRequestBody, ChunkDataIsForwardedAsItComesHoweverLarge) {
  // 1 MiB of chunk data in 4 KiB reads: each read goes upstream at once.
  RequestBodyFramer framer(chunked());
  std::string upstream;
  auto head = framer.feed("100000\r\n", upstream);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->used, 8u);
  EXPECT_EQ(upstream, "100000\r\n");
  const std::string block(4096, 'z');
  for (int i = 0; i < 256; ++i) {
    upstream.clear();
    auto p = framer.feed(block, upstream);
    ASSERT_TRUE(p.ok());
    ASSERT_EQ(p->used, block.size());
    ASSERT_EQ(upstream.size(), block.size());
    ASSERT_FALSE(p->finished);
  }
  upstream.clear();
  auto end = framer.feed("\r\n0\r\n\r\nNEXT", upstream);
  ASSERT_TRUE(end.ok());
  EXPECT_TRUE(end->finished);
  EXPECT_EQ(end->used, 7u);
  EXPECT_EQ(upstream, "\r\n0\r\n\r\n");
}

TEST(EgressRequestBody, AnUnfinishedSizeLineWaitsInTheFramer) {
  // A lenient origin might end lines at a bare LF and read a second request
  // here; Beast does not, so none of it may go upstream before a CRLF.
  const std::string smuggled = "0\n\nGET /admin HTTP/1.1\nHost: a.example\n\n";
  Framed f = frame_every_way(chunked(), "5\r\nhello\r\n" + smuggled);
  // (the CRLF after the data is read with the next size line, so it waits too)
  EXPECT_TRUE(f.ok);
  EXPECT_FALSE(f.finished);
  EXPECT_EQ(f.upstream, "5\r\nhello");
}

TEST(EgressRequestBody, SizeLinesAndTrailersJustUnderTheLimitPass) {
  std::string ext = "1;" + std::string(kMaxChunkFraming - 100, 'a') + "\r\nx\r\n";
  std::string trailers = "0\r\nX-T: " + std::string(kMaxChunkFraming - 100, 'b') + "\r\n\r\n";
  Framed f = frame_every_way(chunked(), ext + trailers + "NEXT");
  EXPECT_TRUE(f.ok);
  EXPECT_TRUE(f.finished);
  EXPECT_EQ(f.end, ext.size() + trailers.size());
}

}  // namespace
}  // namespace hull::egress
