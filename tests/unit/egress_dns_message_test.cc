#include "egress/dns_message.h"

#include <gtest/gtest.h>

#include <string>

namespace hull::egress {
namespace {

// A query as glibc sends it: id, RD, one question, optionally an EDNS OPT.
std::string query(const std::string& name, uint16_t type = kDnsTypeA, bool opt = false) {
  std::string q = {'\x12', '\x34', '\x01', '\x00', '\x00', '\x01', '\x00', '\x00', '\x00', '\x00', '\x00',
                   static_cast<char>(opt ? 1 : 0)};
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    q.push_back(static_cast<char>(dot - start));
    q += name.substr(start, dot - start);
    start = dot + 1;
  }
  q.push_back('\0');
  q += {'\0', static_cast<char>(type), '\0', '\x01'};
  if (opt) q += std::string("\0\0\x29\x04\xd0\0\0\0\0\0\0", 11);
  return q;
}

TEST(EgressDnsMessage, AStandardQueryParsesAndIsAnswered) {
  for (bool opt : {false, true}) {
    auto q = parse_dns_query(query("Api.Example.com", kDnsTypeA, opt));
    ASSERT_TRUE(q.ok()) << q.error().message();
    EXPECT_EQ(q->id, 0x1234);
    EXPECT_TRUE(q->recursion_desired);
    EXPECT_EQ(q->name, "Api.Example.com");
    EXPECT_EQ(q->qtype, kDnsTypeA);
    const policy::NetAddress addrs[] = {policy::NetAddress::v4(0x7f000001),
                                        policy::NetAddress::v6({0x20, 0x01, 0x0d, 0xb8})};
    std::string a = dns_response(*q, kDnsNoError, addrs);
    ASSERT_EQ(a.size(), 12 + q->question.size() + 16u);  // one A record: 2+2+2+4+2+4
    EXPECT_EQ(a.substr(0, 2), std::string("\x12\x34"));
    EXPECT_EQ(static_cast<uint8_t>(a[2]) & 0x80, 0x80) << "a response";
    EXPECT_EQ(a[7], 1) << "one answer";
    EXPECT_EQ(a.substr(a.size() - 4), std::string("\x7f\0\0\x01", 4));
  }
}

TEST(EgressDnsMessage, NxDomainCarriesNoAnswer) {
  auto q = parse_dns_query(query("evil.test", kDnsTypeAaaa));
  ASSERT_TRUE(q.ok());
  const policy::NetAddress addrs[] = {policy::NetAddress::v4(0x7f000001)};
  std::string a = dns_response(*q, kDnsNxDomain, addrs);
  EXPECT_EQ(a[3] & 0x0f, kDnsNxDomain);
  EXPECT_EQ(a[7], 0);
}

TEST(EgressDnsMessage, MalformedQueriesAreRefused) {
  std::string good = query("a.test");
  struct Case {
    const char* name;
    std::string packet;
  } cases[] = {
      {"short", good.substr(0, 11)},
      {"a response", [&] { auto s = good; s[2] = '\x81'; return s; }()},
      {"two questions", [&] { auto s = good; s[5] = 2; return s; }()},
      {"an answer record", [&] { auto s = good; s[7] = 1; return s; }()},
      {"a pointer", [&] { auto s = good; s[12] = '\xc0'; return s; }()},
      {"a label past the end", good.substr(0, 14)},
      {"no type", good.substr(0, good.size() - 3)},
      {"root name", std::string(good.substr(0, 12)) + std::string("\0\0\x01\0\x01", 5)},
      {"dot in a label", query("a\\.b")},
      {"NUL in a label", [&] { auto s = query("ab.test"); s[13] = '\0'; return s; }()},
      {"too long", std::string(kMaxDnsMessage + 1, 'a')},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string p = c.packet;
    if (std::string(c.name) == "dot in a label") p[14] = '.';
    EXPECT_FALSE(parse_dns_query(p).ok());
  }
  std::string name300;
  for (int i = 0; i < 5; ++i) name300 += std::string(60, 'a') + ".";
  name300 += "test";
  EXPECT_FALSE(parse_dns_query(query(name300)).ok()) << "over 253 bytes";
  EXPECT_EQ(dns_format_error(good).substr(0, 2), std::string("\x12\x34"));
}

}  // namespace
}  // namespace hull::egress
