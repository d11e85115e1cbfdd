// Response builders. All text goes through safe_text() before it is put in a
// response: the head's lines are fixed strings of ours, and the body can hold
// nothing that a terminal or an HTTP parser would take for structure.
#include "egress/proxy_responses.h"

#include <algorithm>

#include "base/terminal_text.h"

namespace hull::egress {
namespace {

// One line of text: no control bytes (CR/LF included), escapes or bad UTF-8,
// at most kMaxResponseText bytes, cut on a character boundary.
std::string safe_text(std::string_view text) {
  std::string out = terminal_safe(text.substr(0, kMaxResponseText * 2), Newlines::kReplace);
  if (out.size() <= kMaxResponseText && text.size() <= kMaxResponseText * 2) return out;
  size_t cut = std::min(out.size(), kMaxResponseText - 3);
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  return out + "...";
}

std::string error_response(unsigned code, std::string_view reason, const std::string& body,
                           std::string_view extra_headers = {}) {
  std::string out = "HTTP/1.1 " + std::to_string(code) + " ";
  out += reason;
  out += "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ";
  out += std::to_string(body.size());
  out += "\r\nConnection: close\r\nCache-Control: no-store\r\n";
  out += extra_headers;
  out += "\r\n";
  out += body;
  return out;
}

}  // namespace

std::string connect_established_response() { return "HTTP/1.1 200 Connection established\r\n\r\n"; }

std::string forbidden_response(std::string_view destination, std::string_view rule,
                               std::string_view how_to_allow) {
  std::string body =
      "hull: egress to " + safe_text(destination) + " refused by " + safe_text(rule) + "\n";
  if (!how_to_allow.empty()) body += "to allow it: " + safe_text(how_to_allow) + "\n";
  return error_response(403, "Forbidden", body);
}

std::string bad_request_response(std::string_view why) {
  return error_response(400, "Bad Request", "hull: bad proxy request: " + safe_text(why) + "\n");
}

std::string head_too_large_response() {
  return error_response(431, "Request Header Fields Too Large",
                        "hull: the request head is over 16 KiB; the proxy refuses it\n");
}

std::string bad_gateway_response(std::string_view destination, std::string_view why) {
  return error_response(
      502, "Bad Gateway",
      "hull: could not connect to " + safe_text(destination) + ": " + safe_text(why) + "\n");
}

std::string gateway_timeout_response(std::string_view destination, std::string_view waited) {
  return error_response(
      504, "Gateway Timeout",
      "hull: " + safe_text(destination) + " did not answer within " + safe_text(waited) + "\n");
}

std::string too_many_connections_response(unsigned limit) {
  return error_response(429, "Too Many Requests",
                        "hull: this sandbox already has " + std::to_string(limit) +
                            " connections open through the proxy; retry when one closes\n",
                        "Retry-After: 1\r\n");
}

std::string service_unavailable_response(std::string_view why) {
  return error_response(
      503, "Service Unavailable",
      "hull: the egress proxy cannot take requests now: " + safe_text(why) + "\n");
}

std::string socks5_reply(Socks5Reply code) {
  // VER REP RSV ATYP=IPv4 BND.ADDR=0.0.0.0 BND.PORT=0
  std::string out("\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10);
  out[1] = static_cast<char>(code);
  return out;
}

std::string socks5_no_auth_selected() { return std::string("\x05\x00", 2); }
std::string socks5_no_acceptable_method() { return std::string("\x05\xFF", 2); }

std::string socks4_rejected() { return std::string("\x00\x5B\x00\x00\x00\x00\x00\x00", 8); }

}  // namespace hull::egress
