// A kept-alive HTTP proxy connection read the way the egress proxy reads it:
// request head, body (framed, forwarded), next request head, and so on. Every
// request is found at the same byte and gets a decision of its own, however
// the connection's bytes are cut.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "egress/proxy_request.h"
#include "egress/request_body.h"

namespace hull::egress {
namespace {

struct Connection {
  std::vector<std::string> requests;  // "METHOD host:port/origin-form"
  std::vector<std::string> bodies;    // what went upstream after each request's head
  std::string ended;                  // "" (open), "refused: ..." or "bad body: ..."
  bool operator==(const Connection&) const = default;
};

Connection read_connection(std::string_view bytes, std::vector<size_t> cuts) {
  Connection c;
  ProxyRequestParser parser;
  std::optional<RequestBodyFramer> body;
  size_t at = 0;
  cuts.push_back(bytes.size());
  for (size_t end : cuts) {
    std::string_view rest = bytes.substr(at, end - at);
    at = end;
    while (!rest.empty()) {
      if (body) {
        auto p = body->feed(rest, c.bodies.back());
        if (!p.ok()) {
          c.ended = "bad body: " + p.error().message();
          return c;
        }
        rest.remove_prefix(p->used);
        if (!p->finished) break;
        body.reset();
        parser = ProxyRequestParser(Opening::kNextHttpRequest);
        continue;
      }
      ParseStep s = parser.feed(rest);
      if (s.kind == ParseStep::Kind::kNeedMore) break;
      if (s.kind == ParseStep::Kind::kRefused) {
        c.ended = "refused: " + s.refusal->message();
        return c;
      }
      const ProxyRequest& r = *s.request;
      c.requests.push_back(r.method + " " + authority_text(r.destination) + r.origin_form);
      c.bodies.emplace_back();
      rest.remove_prefix(s.consumed);
      body.emplace(r);
      if (body->finished()) {
        body.reset();
        parser = ProxyRequestParser(Opening::kNextHttpRequest);
      }
    }
  }
  return c;
}

Connection read_every_way(const std::string& bytes) {
  Connection whole = read_connection(bytes, {});
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    Connection split = read_connection(bytes, {cut});
    EXPECT_TRUE(split == whole) << "cut at " << cut;
    if (split != whole) break;
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < bytes.size(); ++i) every.push_back(i);
  EXPECT_TRUE(read_connection(bytes, every) == whole) << "byte by byte";
  return whole;
}

TEST(EgressPipelining, TheNextRequestStartsRightAfterAContentLengthBody) {
  Connection c = read_every_way(
      "POST http://a.example/up HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\n\r\nhello"
      "GET http://b.example/next HTTP/1.1\r\nHost: b.example\r\n\r\n");
  EXPECT_EQ(c.requests,
            (std::vector<std::string>{"POST a.example:80/up", "GET b.example:80/next"}));
  EXPECT_EQ(c.bodies, (std::vector<std::string>{"hello", ""}));
  EXPECT_EQ(c.ended, "");
}

TEST(EgressPipelining, TheNextRequestStartsRightAfterAChunkedBody) {
  Connection c = read_every_way(
      "POST http://a.example/up HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n"
      "GET http://b.example/2 HTTP/1.1\r\nHost: b.example\r\n\r\n"
      "GET http://c.example/3 HTTP/1.1\r\nHost: c.example\r\n\r\n");
  EXPECT_EQ(c.requests, (std::vector<std::string>{"POST a.example:80/up", "GET b.example:80/2",
                                                  "GET c.example:80/3"}));
  EXPECT_EQ(c.bodies[0], "5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n");
  EXPECT_EQ(c.ended, "");
}

TEST(EgressPipelining, ARequestInsideABodyIsBodyNotARequest) {
  const std::string inner = "GET http://evil.example/ HTTP/1.1\r\n\r\n";
  Connection c =
      read_every_way("POST http://a.example/ HTTP/1.1\r\nHost: a.example\r\nContent-Length: " +
                     std::to_string(inner.size()) + "\r\n\r\n" + inner +
                     "GET http://b.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n");
  EXPECT_EQ(c.requests, (std::vector<std::string>{"POST a.example:80/", "GET b.example:80/"}));
  EXPECT_EQ(c.bodies[0], inner);
}

TEST(EgressPipelining, ASecondRequestIsParsedAndRefusedOnItsOwn) {
  Connection c = read_every_way(
      "GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n"
      "GET /origin-form HTTP/1.1\r\nHost: a.example\r\n\r\n");
  EXPECT_EQ(c.requests, (std::vector<std::string>{"GET a.example:80/"}));
  EXPECT_NE(c.ended.find("refused: proxy request: this is a proxy"), std::string::npos) << c.ended;
}

TEST(EgressPipelining, AMalformedChunkEndsTheConnection) {
  Connection c = read_every_way(
      "POST http://a.example/ HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhelloXX0\r\n\r\nGET http://b.example/ HTTP/1.1\r\n\r\n");
  EXPECT_EQ(c.requests.size(), 1u);
  EXPECT_NE(c.ended.find("bad body"), std::string::npos) << c.ended;
  EXPECT_EQ(c.bodies[0], "5\r\nhello");
}

}  // namespace
}  // namespace hull::egress
