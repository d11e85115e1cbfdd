#include "egress/dns_message.h"

namespace hull::egress {

namespace {

uint16_t u16(std::string_view p, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[at]) << 8) | static_cast<uint8_t>(p[at + 1]));
}

void put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

void put32(std::string& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v >> 16));
  put16(out, static_cast<uint16_t>(v & 0xffff));
}

Error bad(const std::string& why) { return make_error("dns query", why); }

}  // namespace

Result<DnsQuery> parse_dns_query(std::string_view p) {
  if (p.size() < 12) return bad("shorter than a DNS header");
  if (p.size() > kMaxDnsMessage) return bad("longer than " + std::to_string(kMaxDnsMessage) + " bytes");
  DnsQuery q;
  q.id = u16(p, 0);
  const uint16_t flags = u16(p, 2);
  if ((flags & 0x8000) != 0) return bad("a response, not a query");
  if (((flags >> 11) & 0xf) != 0) return bad("not a standard query (opcode " + std::to_string((flags >> 11) & 0xf) + ")");
  q.recursion_desired = (flags & 0x0100) != 0;
  if (u16(p, 4) != 1) return bad("not exactly one question");
  if (u16(p, 6) != 0 || u16(p, 8) != 0) return bad("answer or authority records in a query");
  // Additional records (an EDNS OPT) are allowed and ignored.
  size_t at = 12;
  std::string name;
  for (;;) {
    if (at >= p.size()) return bad("the name runs past the end");
    const auto len = static_cast<uint8_t>(p[at]);
    if (len == 0) {
      ++at;
      break;
    }
    if ((len & 0xc0) != 0) return bad("a compressed or extended label in the question");
    if (at + 1 + len > p.size()) return bad("a label runs past the end");
    if (!name.empty()) name += '.';
    for (size_t i = 0; i < len; ++i) {
      const char c = p[at + 1 + i];
      // The name goes to the policy's normaliser next; here only what would
      // make the joined text mean something else is refused.
      if (c == '.' || c == '\0') return bad("a label holds '.' or NUL");
      name += c;
    }
    at += 1 + len;
    if (name.size() > 253) return bad("the name is longer than 253 bytes");
  }
  if (name.empty()) return bad("the root name");
  if (at + 4 > p.size()) return bad("the question's type and class are missing");
  q.qtype = u16(p, at);
  q.qclass = u16(p, at + 2);
  q.question = std::string(p.substr(12, at + 4 - 12));
  q.name = std::move(name);
  return q;
}

std::string dns_response(const DnsQuery& q, uint8_t rcode, std::span<const policy::NetAddress> addresses,
                         uint32_t ttl_s) {
  std::string answers;
  uint16_t count = 0;
  if (rcode == kDnsNoError && q.qclass == 1) {
    for (const auto& a : addresses) {
      const bool v4 = a.is_v4();
      if ((q.qtype == kDnsTypeA && !v4) || (q.qtype == kDnsTypeAaaa && v4)) continue;
      if (q.qtype != kDnsTypeA && q.qtype != kDnsTypeAaaa) continue;
      put16(answers, 0xc00c);  // the question's name, at offset 12
      put16(answers, q.qtype);
      put16(answers, 1);
      put32(answers, ttl_s);
      put16(answers, v4 ? 4 : 16);
      answers.append(reinterpret_cast<const char*>(a.bytes.data()), v4 ? 4 : 16);
      if (++count == 32) break;
    }
  }
  std::string out;
  put16(out, q.id);
  put16(out, static_cast<uint16_t>(0x8000 | 0x0080 | (q.recursion_desired ? 0x0100 : 0) | (rcode & 0xf)));
  put16(out, 1);
  put16(out, count);
  put16(out, 0);
  put16(out, 0);
  out += q.question;
  out += answers;
  return out;
}

std::string dns_format_error(std::string_view packet) {
  std::string out;
  put16(out, packet.size() >= 2 ? u16(packet, 0) : 0);
  put16(out, 0x8000 | 0x0080 | kDnsFormErr);
  for (int i = 0; i < 4; ++i) put16(out, 0);
  return out;
}

}  // namespace hull::egress
