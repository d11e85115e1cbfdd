// Origin-form rewriting. Every piece comes from a ProxyRequest that the
// parser already checked (tokens for names, no CR/LF/NUL in values or the
// target), so the output has exactly the lines the request had, minus some.
#include "egress/upstream_head.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <cassert>
#include <span>
#include <string_view>
#include <vector>

namespace hull::egress {
namespace {

using boost::beast::iequals;

constexpr std::string_view kHopByHop[] = {
    "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authorization", "Proxy-Authenticate",
    "TE",         "Trailer",          "Upgrade",
};

// The framing and the destination travel as the proxy read them.
constexpr std::string_view kAlwaysKept[] = {"Host", "Content-Length", "Transfer-Encoding"};

bool listed(std::string_view name, std::span<const std::string_view> names) {
  for (std::string_view n : names)
    if (iequals(n, name)) return true;
  return false;
}

// Names that Connection fields list as hop-by-hop for this connection.
std::vector<std::string> connection_options(const ProxyRequest& r) {
  std::vector<std::string> out;
  for (const HeaderField& f : r.fields) {
    if (!iequals(f.name, "Connection")) continue;
    for (auto token : boost::beast::http::token_list(f.value)) out.emplace_back(token);
  }
  return out;
}

}  // namespace

std::string upstream_request_head(const ProxyRequest& r) {
  assert(r.protocol == ProxyProtocol::kHttpForward);
  std::string out =
      r.method + " " + r.origin_form + (r.http_version == 10 ? " HTTP/1.0" : " HTTP/1.1");
  out += "\r\n";
  if (r.host_header.empty()) {
    // The port is written only when it is not http's default, as clients do.
    out +=
        "Host: " + (r.destination.port == 80 ? r.destination.host : authority_text(r.destination));
    out += "\r\n";
  }
  const std::vector<std::string> options = connection_options(r);
  for (const HeaderField& f : r.fields) {
    if (!listed(f.name, kAlwaysKept)) {
      if (listed(f.name, kHopByHop)) continue;
      bool named = false;
      for (const std::string& o : options) named = named || iequals(o, f.name);
      if (named) continue;
    }
    out += f.name + ": " + f.value + "\r\n";
  }
  out += "\r\n";
  return out;
}

}  // namespace hull::egress
