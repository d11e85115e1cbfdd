// Fuzz the host's side of the sandbox's stub resolver: a DNS query is bytes
// the sandbox chose (egress/dns_message.h). Properties: never crashes; a
// query it accepts has a name of 1..253 bytes with no '.'-or-NUL inside a
// label and its question echoed exactly; the answer built for it parses
// back as a response with the same id, and is never larger than the query's
// question plus 32 records.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "egress/dns_message.h"

using namespace hull::egress;
using hull::policy::NetAddress;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view packet(reinterpret_cast<const char*>(data), size);
  auto q = parse_dns_query(packet);
  if (!q) {
    const std::string e = dns_format_error(packet);
    if (e.size() != 12) abort();
    return 0;
  }
  if (q->name.empty() || q->name.size() > 253 || q->name.find('\0') != std::string::npos) abort();
  if (packet.substr(12, q->question.size()) != q->question) abort();
  const NetAddress addrs[] = {NetAddress::v4(0x7f000001), NetAddress::v6({0x20, 0x01, 0x0d, 0xb8})};
  for (uint8_t rcode : {kDnsNoError, kDnsNxDomain}) {
    const std::string a = dns_response(*q, rcode, addrs);
    if (a.size() < 12 + q->question.size() || a.size() > 12 + q->question.size() + 32 * 28) abort();
    if (static_cast<uint8_t>(a[0]) != (q->id >> 8) || static_cast<uint8_t>(a[1]) != (q->id & 0xff)) abort();
    if ((static_cast<uint8_t>(a[2]) & 0x80) == 0) abort();
    if (parse_dns_query(a).ok()) abort();  // a response is never taken for a query
  }
  return 0;
}
