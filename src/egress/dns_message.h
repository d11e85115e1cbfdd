// The DNS messages of the sandbox's stub resolver, on the host side: a
// query as the sandbox's libc sends it (RFC 1035: one question, no
// compression in it) parsed from hostile bytes, and the answer built for it.
//
// Written here rather than with libresolv's ns_* parser: we need a strict
// subset (exactly one question, the name as plain labels, nothing else
// trusted) and a response builder, which libresolv lacks; the whole format
// we accept is the 12-byte header and one question (fuzz/fuzz_dns_query).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "policy/net_address.h"

namespace hull::egress {

inline constexpr size_t kMaxDnsMessage = 4096;
inline constexpr uint16_t kDnsTypeA = 1, kDnsTypeAaaa = 28;
inline constexpr uint8_t kDnsNoError = 0, kDnsFormErr = 1, kDnsServFail = 2, kDnsNxDomain = 3,
                         kDnsNotImp = 4, kDnsRefused = 5;

struct DnsQuery {
  uint16_t id = 0;
  bool recursion_desired = false;
  std::string name;      // "api.example.com" (labels joined by '.', as sent)
  uint16_t qtype = 0, qclass = 0;
  std::string question;  // the question section's bytes, echoed in the answer
};

// Refuses anything that is not a standard query with exactly one question
// whose name is 1..253 bytes of labels of 1..63 bytes (no pointers).
Result<DnsQuery> parse_dns_query(std::string_view packet);

// The answer: `rcode`, and for kDnsNoError one record per address of the
// question's type (A: IPv4 ones, AAAA: IPv6 ones; other types: none).
std::string dns_response(const DnsQuery& q, uint8_t rcode, std::span<const policy::NetAddress> addresses,
                         uint32_t ttl_s = 30);

// FORMERR for a packet too broken to answer properly but with an id.
std::string dns_format_error(std::string_view packet);

}  // namespace hull::egress
