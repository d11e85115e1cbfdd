// What the egress proxy answers: each response is one well-formed HTTP/1.1
// message (checked by parsing it back with Beast) that closes the
// connection, and no text put into it can add a header or a second message.
#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <string>

#include "egress/proxy_responses.h"

namespace hull::egress {
namespace {

namespace http = boost::beast::http;
using namespace std::string_literals;

struct Parsed {
  bool ok = false;
  size_t used = 0;
  http::response<http::string_body> message;
};

Parsed parse_response(const std::string& bytes) {
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  boost::beast::error_code ec;
  Parsed p;
  p.used = parser.put(boost::asio::const_buffer(bytes.data(), bytes.size()), ec);
  p.ok = !ec && parser.is_done();
  p.message = parser.release();
  return p;
}

TEST(EgressProxyResponses, ConnectIsAnsweredWithABareTwoHundred) {
  EXPECT_EQ(connect_established_response(), "HTTP/1.1 200 Connection established\r\n\r\n");
}

TEST(EgressProxyResponses, APolicyRefusalNamesTheRuleAndTheFlagThatAllowsIt) {
  std::string r =
      forbidden_response("evil.com:443", "--deny *.evil.com", "hull run --allow evil.com:443 ...");
  const std::string body =
      "hull: egress to evil.com:443 refused by --deny *.evil.com\n"
      "to allow it: hull run --allow evil.com:443 ...\n";
  EXPECT_EQ(r,
            "HTTP/1.1 403 Forbidden\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: " +
                std::to_string(body.size()) +
                "\r\n"
                "Connection: close\r\n"
                "Cache-Control: no-store\r\n"
                "\r\n" +
                body);
}

TEST(EgressProxyResponses, ARefusalWithNothingToSuggestHasOneLine) {
  Parsed p = parse_response(forbidden_response("10.0.0.1:80", "private address", ""));
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.message.body(), "hull: egress to 10.0.0.1:80 refused by private address\n");
}

struct ErrorCase {
  const char* name;
  std::function<std::string()> build;
  unsigned status;
  std::string body;
};

const ErrorCase kErrors[] = {
    {"bad_request", [] { return bad_request_response("send absolute-form"); }, 400,
     "hull: bad proxy request: send absolute-form\n"},
    {"head_too_large", [] { return head_too_large_response(); }, 431,
     "hull: the request head is over 16 KiB; the proxy refuses it\n"},
    {"forbidden",
     [] { return forbidden_response("a.example:80", "the locked preset", "--allow a.example"); },
     403,
     "hull: egress to a.example:80 refused by the locked preset\nto allow it: --allow a.example\n"},
    {"bad_gateway", [] { return bad_gateway_response("a.example:443", "connection refused"); }, 502,
     "hull: could not connect to a.example:443: connection refused\n"},
    {"gateway_timeout", [] { return gateway_timeout_response("a.example:443", "30 s"); }, 504,
     "hull: a.example:443 did not answer within 30 s\n"},
    {"too_many_connections", [] { return too_many_connections_response(256); }, 429,
     "hull: this sandbox already has 256 connections open through the proxy; retry when one "
     "closes\n"},
    {"service_unavailable", [] { return service_unavailable_response("shutting down"); }, 503,
     "hull: the egress proxy cannot take requests now: shutting down\n"},
};

class EgressProxyErrorResponses : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(EgressProxyErrorResponses, AreOneWellFormedMessageThatClosesTheConnection) {
  const ErrorCase& c = GetParam();
  const std::string bytes = c.build();
  Parsed p = parse_response(bytes);
  ASSERT_TRUE(p.ok) << bytes;
  EXPECT_EQ(p.used, bytes.size()) << "nothing after the body";
  EXPECT_EQ(p.message.result_int(), c.status);
  EXPECT_EQ(p.message.body(), c.body);
  EXPECT_EQ(p.message[http::field::content_length], std::to_string(c.body.size()));
  EXPECT_EQ(p.message[http::field::connection], "close");
  EXPECT_EQ(p.message[http::field::content_type], "text/plain; charset=utf-8");
  EXPECT_FALSE(p.message.keep_alive());
}

INSTANTIATE_TEST_SUITE_P(Egress, EgressProxyErrorResponses, ::testing::ValuesIn(kErrors),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(EgressProxyResponses, TooManyConnectionsSaysWhenToRetry) {
  Parsed p = parse_response(too_many_connections_response(8));
  EXPECT_EQ(p.message["Retry-After"], "1");
}

TEST(EgressProxyResponses, CrLfInAnyTextCannotAddAHeaderOrASecondResponse) {
  const std::string inject =
      "x\r\nSet-Cookie: a=b\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  for (const std::string& bytes :
       {forbidden_response(inject, inject, inject), bad_request_response(inject),
        bad_gateway_response(inject, inject), gateway_timeout_response(inject, inject),
        service_unavailable_response(inject)}) {
    Parsed p = parse_response(bytes);
    ASSERT_TRUE(p.ok) << bytes;
    EXPECT_EQ(p.used, bytes.size());
    EXPECT_EQ(p.message.count(http::field::set_cookie), 0u);
    EXPECT_EQ(p.message.body().find('\r'), std::string::npos);
    EXPECT_NE(p.message.body().find("x??Set-Cookie: a=b????HTTP/1.1 200 OK"), std::string::npos);
  }
}

TEST(EgressProxyResponses, EscapesAndBadUtf8BecomeQuestionMarksAndGoodUtf8Stays) {
  Parsed p =
      parse_response(bad_gateway_response("b\xC3\xBC"
                                          "cher.example:80",
                                          "\x1b[31mred\xff"));
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.message.body(),
            "hull: could not connect to b\xC3\xBC"
            "cher.example:80: ?[31mred?\n");
}

TEST(EgressProxyResponses, LongTextIsCutOnACharacterBoundary) {
  std::string long_rule;
  while (long_rule.size() < 10 * kMaxResponseText) long_rule += "\xC3\xBC";  // ü
  Parsed p = parse_response(forbidden_response("a.example:80", long_rule, ""));
  ASSERT_TRUE(p.ok);
  const std::string& body = p.message.body();
  EXPECT_LT(body.size(), 2 * kMaxResponseText);
  std::string prefix = "hull: egress to a.example:80 refused by ";
  ASSERT_TRUE(body.starts_with(prefix));
  std::string shown = body.substr(prefix.size(), body.size() - prefix.size() - 1);
  EXPECT_LE(shown.size(), kMaxResponseText);
  EXPECT_TRUE(shown.ends_with("\xC3\xBC..."));
}

struct SocksCase {
  Socks5Reply code;
  char byte;
};

TEST(EgressSocksReplies, CarryTheCodeAndTheBoundAddressZero) {
  const SocksCase cases[] = {
      {Socks5Reply::kSucceeded, 0x00},
      {Socks5Reply::kGeneralFailure, 0x01},
      {Socks5Reply::kNotAllowedByRuleset, 0x02},
      {Socks5Reply::kNetworkUnreachable, 0x03},
      {Socks5Reply::kHostUnreachable, 0x04},
      {Socks5Reply::kConnectionRefused, 0x05},
      {Socks5Reply::kTtlExpired, 0x06},
      {Socks5Reply::kCommandNotSupported, 0x07},
      {Socks5Reply::kAddressTypeNotSupported, 0x08},
  };
  for (const SocksCase& c : cases) {
    std::string want = "\x05"s + c.byte + "\x00\x01\x00\x00\x00\x00\x00\x00"s;
    EXPECT_EQ(socks5_reply(c.code), want) << int(c.byte);
  }
}

TEST(EgressSocksReplies, MethodSelectionAndSocks4Rejection) {
  EXPECT_EQ(socks5_no_auth_selected(), "\x05\x00"s);
  EXPECT_EQ(socks5_no_acceptable_method(), "\x05\xff"s);
  EXPECT_EQ(socks4_rejected(), "\x00\x5b\x00\x00\x00\x00\x00\x00"s);
}

}  // namespace
}  // namespace hull::egress
