// HTTP proxy requests as the egress process parses them from a sandbox's
// connection: what is accepted and what it means, what is refused and why,
// and that the outcome never depends on how the bytes were cut.
#include <gtest/gtest.h>

#include <string>

#include "egress/proxy_request.h"
#include "egress_feed.h"

namespace hull::egress {
namespace {

using testing::Outcome;
using testing::parse_every_way;
using Kind = ParseStep::Kind;
using namespace std::string_literals;

struct Accepted {
  const char* name;
  std::string bytes;
  ProxyProtocol protocol;
  std::string method, host;
  uint16_t port;
  std::string origin_form, host_header;
  bool keep_alive;
  BodyFraming body = BodyFraming::kNone;
  uint64_t content_length = 0;
};

const Accepted kAccepted[] = {
    {"connect", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
     ProxyProtocol::kHttpConnect, "CONNECT", "example.com", 443, "", "example.com:443", false},
    {"connect_ipv6", "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n",
     ProxyProtocol::kHttpConnect, "CONNECT", "[::1]", 443, "", "[::1]:443", false},
    {"connect_host_kept_as_written_without_host_header",
     "CONNECT Example.COM.:8443 HTTP/1.1\r\n\r\n", ProxyProtocol::kHttpConnect, "CONNECT",
     "Example.COM.", 8443, "", "", false},
    {"connect_portless_host_means_443",
     "CONNECT example.com:443 HTTP/1.1\r\nHost: EXAMPLE.com\r\n\r\n", ProxyProtocol::kHttpConnect,
     "CONNECT", "example.com", 443, "", "EXAMPLE.com", false},
    {"connect_with_zero_content_length",
     "CONNECT a.example:22 HTTP/1.1\r\nContent-Length: 0\r\n\r\n", ProxyProtocol::kHttpConnect,
     "CONNECT", "a.example", 22, "", "", false},
    {"get", "GET http://example.com/path?q=1&r=%20 HTTP/1.1\r\nHost: example.com\r\n\r\n",
     ProxyProtocol::kHttpForward, "GET", "example.com", 80, "/path?q=1&r=%20", "example.com", true},
    {"get_empty_path", "GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n",
     ProxyProtocol::kHttpForward, "GET", "example.com", 80, "/", "example.com", true},
    {"get_query_without_path", "GET http://example.com?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
     ProxyProtocol::kHttpForward, "GET", "example.com", 80, "/?x=1", "example.com", true},
    {"scheme_any_case_and_port",
     "GET HTTP://Example.com:8080/a HTTP/1.1\r\nHost: example.COM:8080\r\n\r\n",
     ProxyProtocol::kHttpForward, "GET", "Example.com", 8080, "/a", "example.COM:8080", true},
    {"default_port_written_in_url",
     "GET http://example.com:80/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
     ProxyProtocol::kHttpForward, "GET", "example.com", 80, "/", "example.com", true},
    {"default_port_written_in_host",
     "GET http://example.com/ HTTP/1.1\r\nHost: example.com:80\r\n\r\n",
     ProxyProtocol::kHttpForward, "GET", "example.com", 80, "/", "example.com:80", true},
    {"ipv6_url", "GET http://[2001:db8::1]:8080/x HTTP/1.1\r\nHost: [2001:DB8::1]:8080\r\n\r\n",
     ProxyProtocol::kHttpForward, "GET", "[2001:db8::1]", 8080, "/x", "[2001:DB8::1]:8080", true},
    {"http10_without_host", "GET http://a.example/ HTTP/1.0\r\n\r\n", ProxyProtocol::kHttpForward,
     "GET", "a.example", 80, "/", "", false},
    {"connection_close",
     "HEAD http://a.example/ HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n",
     ProxyProtocol::kHttpForward, "HEAD", "a.example", 80, "/", "a.example", false},
    {"post_content_length",
     "POST http://a.example/up HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\n\r\nhello",
     ProxyProtocol::kHttpForward, "POST", "a.example", 80, "/up", "a.example", true,
     BodyFraming::kContentLength, 5},
    {"post_chunked",
     "POST http://a.example/up HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: Chunked\r\n\r\n"
     "5\r\nhello\r\n0\r\n\r\n",
     ProxyProtocol::kHttpForward, "POST", "a.example", 80, "/up", "a.example", true,
     BodyFraming::kChunked},
    {"post_bigger_than_beasts_default_body_limit",
     "PUT http://a.example/ HTTP/1.1\r\nHost: a.example\r\nContent-Length: 10000000000\r\n\r\n",
     ProxyProtocol::kHttpForward, "PUT", "a.example", 80, "/", "a.example", true,
     BodyFraming::kContentLength, 10000000000},
    {"utf8_and_percent_in_host_left_to_policy",
     "GET http://b\xC3\xBC"
     "cher.example/ HTTP/1.1\r\n\r\n",
     ProxyProtocol::kHttpForward, "GET",
     "b\xC3\xBC"
     "cher.example",
     80, "/", "", true},
};

class EgressProxyRequestAccepts : public ::testing::TestWithParam<Accepted> {};

TEST_P(EgressProxyRequestAccepts, TheRequestIsParsedTheSameHoweverTheBytesAreCut) {
  const Accepted& c = GetParam();
  Outcome o = parse_every_way(c.bytes);
  ASSERT_EQ(o.kind, Kind::kDone) << o.refusal;
  EXPECT_EQ(o.reply, "");
  const ProxyRequest& r = *o.request;
  EXPECT_EQ(r.protocol, c.protocol);
  EXPECT_EQ(r.method, c.method);
  EXPECT_EQ(r.destination.host, c.host);
  EXPECT_EQ(r.destination.port, c.port);
  EXPECT_EQ(r.origin_form, c.origin_form);
  EXPECT_EQ(r.host_header, c.host_header);
  EXPECT_EQ(r.keep_alive, c.keep_alive);
  EXPECT_EQ(r.body, c.body);
  EXPECT_EQ(r.content_length, c.content_length);
  // The head ends at the blank line; what follows is body or tunnel data.
  EXPECT_EQ(o.end, c.bytes.find("\r\n\r\n") + 4);
}

INSTANTIATE_TEST_SUITE_P(Egress, EgressProxyRequestAccepts, ::testing::ValuesIn(kAccepted),
                         [](const auto& info) { return std::string(info.param.name); });

struct Refused {
  const char* name;
  std::string bytes;
  std::string reply_start;  // how the reply starts ("": no reply at all)
  std::string reason;       // a part of the refusal's message
};

std::string big_header(size_t n) { return "X-Big: " + std::string(n, 'a') + "\r\n"; }

const Refused kRefused[] = {
    {"origin_form", "GET /x HTTP/1.1\r\nHost: a.example\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n",
     "this is a proxy; send absolute-form"},
    {"asterisk_form", "OPTIONS * HTTP/1.1\r\nHost: a.example\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "this is a proxy"},
    {"https_in_request_line", "GET https://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "CONNECT host:443"},
    {"other_scheme", "GET ftp://a.example/ HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n",
     "only http:// URLs"},
    {"authority_form_without_connect", "GET a.example:80 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "not a URL"},
    {"userinfo", "GET http://a@b.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "userinfo"},
    {"userinfo_behind_backslash", "GET http://evil.example\\@good.example/ HTTP/1.1\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "userinfo"},
    {"backslash_in_host", "GET http://good.example\\evil.example/ HTTP/1.1\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "no DNS name has"},
    {"fragment", "GET http://a.example/#top HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n",
     "fragment"},
    {"host_header_names_another_host", "GET http://a.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "no domain fronting"},
    {"host_header_names_another_port",
     "GET http://a.example/ HTTP/1.1\r\nHost: a.example:81\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n",
     "no domain fronting"},
    {"connect_host_header_names_another_host",
     "CONNECT a.example:443 HTTP/1.1\r\nHost: b.example:443\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "no domain fronting"},
    {"connect_portless_host_is_not_8443",
     "CONNECT a.example:8443 HTTP/1.1\r\nHost: a.example\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n",
     "no domain fronting"},
    {"malformed_host_header", "GET http://a.example/ HTTP/1.1\r\nHost: a.example:x\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "Host header is malformed"},
    {"duplicate_host",
     "GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\nHost: a.example\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "Host header is given twice"},
    {"length_then_chunked",
     "POST http://a.example/ HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "smuggling"},
    {"chunked_then_length",
     "POST http://a.example/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "smuggling"},
    {"other_encoding_then_length",
     "POST http://a.example/ HTTP/1.1\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "Transfer-Encoding and Content-Length together"},
    {"encoding_other_than_chunked",
     "POST http://a.example/ HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "only 'Transfer-Encoding: chunked'"},
    {"two_encoding_fields",
     "POST http://a.example/ HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: "
     "chunked\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "given twice"},
    {"length_list", "POST http://a.example/ HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "plain digits"},
    {"two_equal_lengths",
     "POST http://a.example/ HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "given twice"},
    {"two_different_lengths",
     "POST http://a.example/ HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "smuggling"},
    {"obs_fold", "GET http://a.example/ HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "obs-fold"},
    {"obs_fold_with_tab", "GET http://a.example/ HTTP/1.1\r\nX-A: one\r\n\ttwo\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "obs-fold"},
    {"connect_without_port", "CONNECT a.example HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n",
     "the port is required"},
    {"connect_ipv6_without_port", "CONNECT [::1] HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n",
     "the port is required"},
    {"connect_port_zero", "CONNECT a.example:0 HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n",
     "1-65535"},
    {"connect_port_too_big", "CONNECT a.example:65536 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "1-65535"},
    {"connect_port_not_digits", "CONNECT a.example:https HTTP/1.1\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "1-65535"},
    {"connect_ipv6_zone", "CONNECT [fe80::1%25eth0]:443 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "zone ids"},
    {"connect_with_body", "CONNECT a.example:443 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
     "HTTP/1.1 400 Bad Request\r\n", "carries no body"},
    {"connect_chunked", "CONNECT a.example:443 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "carries no body"},
    {"nul_in_target", "GET http://a.example/\0x HTTP/1.1\r\n\r\n"s, "HTTP/1.1 400 Bad Request\r\n",
     "control byte or a NUL"},
    {"nul_in_header_value", "GET http://a.example/ HTTP/1.1\r\nX-A: a\0b\r\n\r\n"s,
     "HTTP/1.1 400 Bad Request\r\n", "control byte"},
    {"cr_in_target", "GET http://a.example/\rx HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n",
     "control byte"},
    {"lf_in_target", "GET http://a.example/\nHost: b HTTP/1.1\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "control byte"},
    {"bare_lf_line_ends", "GET http://a.example/ HTTP/1.1\nHost: a.example\n\n",
     "HTTP/1.1 400 Bad Request\r\n", "CRLF"},
    {"http2_version", "GET http://a.example/ HTTP/2.0\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n",
     "HTTP/1.1"},
    {"space_in_field_name", "GET http://a.example/ HTTP/1.1\r\nX A: b\r\n\r\n",
     "HTTP/1.1 400 Bad Request\r\n", "field name"},
    {"not_a_method", "\0GET http://a/ HTTP/1.1\r\n\r\n"s, "HTTP/1.1 400 Bad Request\r\n",
     "does not start with a method"},
    {"tls_client_hello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"s, "",
     "HTTPS_PROXY=http://127.0.0.1:3128"},
    {"socks4", "\x04\x01\x01\xbb\x7f\x00\x00\x01user\0"s, "\x00\x5b\x00\x00\x00\x00\x00\x00"s,
     "SOCKS4 is not supported; use SOCKS5"},
    {"head_over_the_limit",
     "GET http://a.example/ HTTP/1.1\r\n" + big_header(kMaxRequestHead) + "\r\n",
     "HTTP/1.1 431 Request Header Fields Too Large\r\n", "over 16 KiB"},
    {"request_line_over_the_limit_without_a_newline",
     "GET http://a.example/" + std::string(kMaxRequestHead, 'a'),
     "HTTP/1.1 431 Request Header Fields Too Large\r\n", "over 16 KiB"},
    {"many_small_fields_over_the_limit",
     [] {
       std::string s = "GET http://a.example/ HTTP/1.1\r\n";
       while (s.size() <= kMaxRequestHead) s += "A: b\r\n";
       return s + "\r\n";
     }(),
     "HTTP/1.1 431 Request Header Fields Too Large\r\n", "over 16 KiB"},
};

class EgressProxyRequestRefuses : public ::testing::TestWithParam<Refused> {};

TEST_P(EgressProxyRequestRefuses, TheRefusalSaysWhyHoweverTheBytesAreCut) {
  const Refused& c = GetParam();
  Outcome o = parse_every_way(c.bytes);
  ASSERT_EQ(o.kind, Kind::kRefused) << testing::describe(o);
  EXPECT_NE(o.refusal.find(c.reason), std::string::npos) << o.refusal;
  if (c.reply_start.empty()) {
    EXPECT_EQ(o.reply, "");
  } else {
    EXPECT_TRUE(o.reply.starts_with(c.reply_start)) << o.reply;
  }
  if (o.reply.starts_with("HTTP/")) {
    EXPECT_NE(o.reply.find("\r\nConnection: close\r\n"), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(Egress, EgressProxyRequestRefuses, ::testing::ValuesIn(kRefused),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(EgressProxyRequest, AHeadOfExactlyTheLimitIsAccepted) {
  std::string head = "GET http://a.example/ HTTP/1.1\r\n";
  std::string field = big_header(0);
  head += big_header(kMaxRequestHead - head.size() - field.size() - 2);
  head += "\r\n";
  ASSERT_EQ(head.size(), kMaxRequestHead);
  Outcome o = parse_every_way(head + "trailing body bytes");
  ASSERT_EQ(o.kind, Kind::kDone) << o.refusal;
  EXPECT_EQ(o.end, kMaxRequestHead);
}

TEST(EgressProxyRequest, BytesAfterAConnectHeadAreLeftForTheTunnel) {
  const std::string head = "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n";
  const std::string hello("\x16\x03\x01\x00\x05hello", 10);
  ProxyRequestParser parser;
  ParseStep s = parser.feed(head + hello);
  ASSERT_EQ(s.kind, Kind::kDone);
  EXPECT_EQ(s.consumed, head.size());
}

TEST(EgressProxyRequest, ParsingContinuesAcrossFeedsUntilTheBlankLine) {
  ProxyRequestParser parser;
  EXPECT_EQ(parser.feed("GET http://a.example/ HTTP/1.1\r\n").kind, Kind::kNeedMore);
  EXPECT_EQ(parser.feed("").kind, Kind::kNeedMore);
  EXPECT_EQ(parser.feed("Host: a.example\r\n").kind, Kind::kNeedMore);
  ParseStep s = parser.feed("\r\nNEXT");
  ASSERT_EQ(s.kind, Kind::kDone);
  EXPECT_EQ(s.consumed, 2u);
}

TEST(EgressProxyRequest, FieldsAreKeptInOrderWithTheirValuesTrimmed) {
  Outcome o = parse_every_way(
      "GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\nAccept:  */*  \r\nX-Two: 2\r\n\r\n");
  ASSERT_EQ(o.kind, Kind::kDone);
  std::vector<HeaderField> want = {{"Host", "a.example"}, {"Accept", "*/*"}, {"X-Two", "2"}};
  EXPECT_EQ(o.request->fields, want);
  EXPECT_EQ(o.request->http_version, 11u);
}

TEST(EgressProxyRequest, TheNextRequestOnAConnectionIsHttpEvenIfItStartsLikeSocks) {
  Outcome o =
      testing::feed_in_chunks(std::string("\x05\x01\x00", 3), {}, Opening::kNextHttpRequest);
  EXPECT_EQ(o.kind, Kind::kRefused);
  EXPECT_TRUE(o.reply.starts_with("HTTP/1.1 400 "));
}

TEST(EgressProxyRequest, TheRefusalBodyNeverEchoesRawClientBytes) {
  Outcome o =
      parse_every_way("GET http://a.example/ HTTP/1.1\r\nHost: evil\x1b]0;x\x07.example\r\n\r\n");
  ASSERT_EQ(o.kind, Kind::kRefused);
  EXPECT_EQ(o.reply.find('\x1b'), std::string::npos);
  EXPECT_EQ(o.reply.find("evil"), std::string::npos);
}

}  // namespace
}  // namespace hull::egress
