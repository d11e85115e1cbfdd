// SOCKS5 (RFC 1928) as the egress process reads it: the greeting gets its
// method-selection reply, then the CONNECT request is parsed; every other
// command, address type or malformed message gets the reply RFC 1928 has for
// it, whatever chunks the bytes came in.
#include <gtest/gtest.h>

#include <string>

#include "egress/proxy_request.h"
#include "egress/proxy_responses.h"
#include "egress_feed.h"

namespace hull::egress {
namespace {

using testing::Outcome;
using testing::parse_every_way;
using Kind = ParseStep::Kind;
using namespace std::string_literals;

const std::string kGreeting = "\x05\x01\x00"s;
const std::string kNoAuth = "\x05\x00"s;

std::string domain_request(const std::string& name, uint16_t port) {
  return "\x05\x01\x00\x03"s + static_cast<char>(name.size()) + name +
         static_cast<char>(port >> 8) + static_cast<char>(port & 0xff);
}

struct Accepted {
  const char* name;
  std::string bytes;
  std::string host;
  uint16_t port;
};

const Accepted kAccepted[] = {
    {"ipv4", kGreeting + "\x05\x01\x00\x01\x7f\x00\x00\x01\x01\xbb"s, "127.0.0.1", 443},
    {"domain", kGreeting + domain_request("example.com", 80), "example.com", 80},
    {"domain_as_written", kGreeting + domain_request("API.Example.COM.", 8443), "API.Example.COM.",
     8443},
    {"domain_of_255_bytes", kGreeting + domain_request(std::string(255, 'a'), 1),
     std::string(255, 'a'), 1},
    {"ipv6", kGreeting + "\x05\x01\x00\x04"s + std::string(15, '\0') + "\x01\x00\x16"s, "[::1]",
     22},
    {"ipv6_full",
     kGreeting + "\x05\x01\x00\x04\x20\x01\x0d\xb8"s + std::string(11, '\0') + "\x01\xff\xff"s,
     "[2001:db8::1]", 65535},
    {"several_methods_offered", "\x05\x03\x02\x01\x00"s + domain_request("a.example", 443),
     "a.example", 443},
};

class EgressSocks5Accepts : public ::testing::TestWithParam<Accepted> {};

TEST_P(EgressSocks5Accepts, TheRequestIsParsedAfterTheMethodSelectionReply) {
  const Accepted& c = GetParam();
  const std::string optimistic = "GET / HTTP/1.1\r\n";  // sent before the reply: the tunnel's
  Outcome o = parse_every_way(c.bytes + optimistic);
  ASSERT_EQ(o.kind, Kind::kDone) << o.refusal;
  EXPECT_EQ(o.reply, kNoAuth);
  EXPECT_EQ(o.end, c.bytes.size());
  const ProxyRequest& r = *o.request;
  EXPECT_EQ(r.protocol, ProxyProtocol::kSocks5);
  EXPECT_EQ(r.method, "CONNECT");
  EXPECT_EQ(r.destination.host, c.host);
  EXPECT_EQ(r.destination.port, c.port);
  EXPECT_EQ(r.body, BodyFraming::kNone);
  EXPECT_FALSE(r.keep_alive);
}

INSTANTIATE_TEST_SUITE_P(Egress, EgressSocks5Accepts, ::testing::ValuesIn(kAccepted),
                         [](const auto& info) { return std::string(info.param.name); });

struct Refused {
  const char* name;
  std::string bytes;
  std::string reply;  // everything the client is sent
  std::string reason;
};

const std::string kFailure = socks5_reply(Socks5Reply::kGeneralFailure);

const Refused kRefused[] = {
    {"no_methods", "\x05\x00"s, "\x05\xff"s, "no 'no authentication' method"},
    {"only_username_password", "\x05\x01\x02"s, "\x05\xff"s, "takes no credentials"},
    {"bind", kGreeting + "\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x50"s,
     kNoAuth + socks5_reply(Socks5Reply::kCommandNotSupported), "only CONNECT"},
    {"udp_associate", kGreeting + "\x05\x03\x00\x01"s,
     kNoAuth + socks5_reply(Socks5Reply::kCommandNotSupported), "only CONNECT"},
    {"unknown_address_type", kGreeting + "\x05\x01\x00\x02"s,
     kNoAuth + socks5_reply(Socks5Reply::kAddressTypeNotSupported), "address type"},
    {"empty_domain", kGreeting + "\x05\x01\x00\x03\x00\x00\x50"s, kNoAuth + kFailure, "empty"},
    {"request_version_not_5", kGreeting + "\x04\x01\x00\x01"s, kNoAuth + kFailure, "version byte"},
    {"reserved_byte_set", kGreeting + "\x05\x01\x01\x01"s, kNoAuth + kFailure, "reserved byte"},
    {"port_zero", kGreeting + domain_request("a.example", 0), kNoAuth + kFailure, "port 0"},
    {"crlf_in_domain", kGreeting + domain_request("a.example\r\nX: y", 80), kNoAuth + kFailure,
     "no DNS name has"},
    {"nul_in_domain", kGreeting + domain_request("a.example\0.evil"s, 80), kNoAuth + kFailure,
     "no DNS name has"},
    {"slash_in_domain", kGreeting + domain_request("a.example/x", 80), kNoAuth + kFailure,
     "no DNS name has"},
    {"at_in_domain", kGreeting + domain_request("user@a.example", 80), kNoAuth + kFailure,
     "no DNS name has"},
};

class EgressSocks5Refuses : public ::testing::TestWithParam<Refused> {};

TEST_P(EgressSocks5Refuses, TheClientGetsTheReplyForItsMistake) {
  const Refused& c = GetParam();
  Outcome o = parse_every_way(c.bytes);
  ASSERT_EQ(o.kind, Kind::kRefused) << testing::describe(o);
  EXPECT_EQ(o.reply, c.reply);
  EXPECT_NE(o.refusal.find(c.reason), std::string::npos) << o.refusal;
  EXPECT_NE(o.refusal.find("SOCKS5"), std::string::npos) << o.refusal;
}

INSTANTIATE_TEST_SUITE_P(Egress, EgressSocks5Refuses, ::testing::ValuesIn(kRefused),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(EgressSocks5, TheTwoStepExchangeYieldsTheMethodReplyBeforeTheRequest) {
  ProxyRequestParser parser;
  ParseStep greeting = parser.feed(kGreeting);
  EXPECT_EQ(greeting.kind, Kind::kNeedMore);
  EXPECT_EQ(greeting.reply, kNoAuth);
  EXPECT_EQ(greeting.consumed, kGreeting.size());
  ParseStep request = parser.feed(domain_request("example.com", 443));
  ASSERT_EQ(request.kind, Kind::kDone);
  EXPECT_EQ(request.reply, "");
  EXPECT_EQ(request.request->destination.host, "example.com");
}

TEST(EgressSocks5, AnIncompleteRequestWaitsForMore) {
  for (std::string partial : {"\x05"s, "\x05\x01"s, kGreeting + "\x05\x01\x00"s,
                              kGreeting + "\x05\x01\x00\x03\x05"
                                          "abc"s,
                              kGreeting + "\x05\x01\x00\x01\x7f\x00\x00\x01\x01"s}) {
    Outcome o = parse_every_way(partial);
    EXPECT_EQ(o.kind, Kind::kNeedMore) << testing::describe(o);
  }
}

}  // namespace
}  // namespace hull::egress
