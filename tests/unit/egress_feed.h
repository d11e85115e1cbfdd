// Test helpers for the egress parsers: feed bytes in chunks, join the steps,
// and check that every way of cutting the bytes gives the same outcome.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "egress/proxy_request.h"

namespace hull::egress::testing {

// What a whole feeding came to: the last step's kind and data, all replies
// joined, and where in the input the request ended.
struct Outcome {
  ParseStep::Kind kind = ParseStep::Kind::kNeedMore;
  std::string reply;
  size_t end = 0;  // kDone: offset in the input just past the request
  std::optional<ProxyRequest> request;
  std::string refusal;  // kRefused: the error's message
  bool operator==(const Outcome&) const = default;
};

inline std::string describe(const Outcome& o) {
  const char* kinds[] = {"need-more", "done", "refused"};
  std::string s = kinds[static_cast<int>(o.kind)];
  s += " end=" + std::to_string(o.end) + " reply=" + std::to_string(o.reply.size()) + " bytes";
  if (o.request) s += " request=" + authority_text(o.request->destination);
  if (!o.refusal.empty()) s += " refusal=" + o.refusal;
  return s;
}

// Feeds `bytes` cut at `cuts` (ascending offsets); stops at the first
// kDone/kRefused, as the proxy would.
inline Outcome feed_in_chunks(std::string_view bytes, const std::vector<size_t>& cuts,
                              Opening opening = Opening::kNewConnection) {
  ProxyRequestParser parser(opening);
  Outcome out;
  size_t at = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(bytes.size());
  for (size_t end : ends) {
    if (end < at) continue;
    ParseStep s = parser.feed(bytes.substr(at, end - at));
    EXPECT_LE(s.consumed, end - at) << "consumed more than it was fed";
    out.reply += s.reply;
    out.kind = s.kind;
    if (s.kind == ParseStep::Kind::kDone) {
      out.end = at + s.consumed;
      out.request = s.request;
      return out;
    }
    if (s.kind == ParseStep::Kind::kRefused) {
      out.refusal = s.refusal ? s.refusal->message() : "(no reason)";
      return out;
    }
    EXPECT_EQ(s.consumed, end - at) << "kNeedMore must take every byte";
    at = end;
  }
  return out;
}

// The outcome of `bytes` fed whole, after checking that cutting them once at
// every offset, and feeding them one byte at a time, gives the same.
inline Outcome parse_every_way(std::string_view bytes, Opening opening = Opening::kNewConnection) {
  Outcome whole = feed_in_chunks(bytes, {}, opening);
  // Every offset for the usual sizes; a few hundred spread out for the big ones.
  const size_t stride = bytes.size() <= 4096 ? 1 : bytes.size() / 512;
  for (size_t cut = 0; cut <= bytes.size(); cut += stride) {
    Outcome split = feed_in_chunks(bytes, {cut}, opening);
    EXPECT_TRUE(split == whole) << "cut at " << cut << ": " << describe(split) << " vs whole "
                                << describe(whole);
    if (split != whole) break;
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < bytes.size(); ++i) every.push_back(i);
  Outcome bytewise = feed_in_chunks(bytes, every, opening);
  EXPECT_TRUE(bytewise == whole) << "byte by byte: " << describe(bytewise) << " vs whole "
                                 << describe(whole);
  return whole;
}

}  // namespace hull::egress::testing
