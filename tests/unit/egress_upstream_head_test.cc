// The head sent to the origin for a forwarded request: origin-form, no
// hop-by-hop fields, framing and Host as the proxy read them.
#include <gtest/gtest.h>

#include <string>

#include "egress/proxy_request.h"
#include "egress/upstream_head.h"

namespace hull::egress {
namespace {

ProxyRequest parse(const std::string& head) {
  ProxyRequestParser parser;
  ParseStep s = parser.feed(head);
  EXPECT_EQ(s.kind, ParseStep::Kind::kDone) << (s.refusal ? s.refusal->message() : "");
  return s.request.value_or(ProxyRequest{});
}

struct Case {
  const char* name;
  std::string client_head;
  std::string upstream_head;
};

const Case kCases[] = {
    {"target_becomes_origin_form",
     "GET http://a.example/x/y?z=1 HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\n\r\n",
     "GET /x/y?z=1 HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\n\r\n"},
    {"proxy_fields_removed",
     "GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\nProxy-Connection: keep-alive\r\n"
     "Proxy-Authorization: Basic dXNlcjpwdw==\r\nUser-Agent: curl/8\r\n\r\n",
     "GET / HTTP/1.1\r\nHost: a.example\r\nUser-Agent: curl/8\r\n\r\n"},
    {"hop_by_hop_fields_removed",
     "GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\nConnection: keep-alive\r\n"
     "Keep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: X-Sum\r\nUpgrade: websocket\r\n"
     "Proxy-Authenticate: x\r\nAccept: */*\r\n\r\n",
     "GET / HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\n\r\n"},
    {"fields_named_by_connection_removed",
     "GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\nConnection: close, X-Hop\r\n"
     "x-hop: 1\r\nX-Kept: 2\r\n\r\n",
     "GET / HTTP/1.1\r\nHost: a.example\r\nX-Kept: 2\r\n\r\n"},
    {"framing_and_host_kept_even_when_connection_names_them",
     "POST http://a.example/ HTTP/1.1\r\nHost: a.example\r\nConnection: Content-Length, Host\r\n"
     "Content-Length: 5\r\n\r\n",
     "POST / HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\n\r\n"},
    {"chunked_kept",
     "POST http://a.example/ HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n"
     "Connection: Transfer-Encoding\r\n\r\n",
     "POST / HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n"},
    {"missing_host_added_first", "GET http://a.example/ HTTP/1.0\r\nAccept: */*\r\n\r\n",
     "GET / HTTP/1.0\r\nHost: a.example\r\nAccept: */*\r\n\r\n"},
    {"missing_host_added_with_its_port", "GET http://[::1]:8080/ HTTP/1.1\r\n\r\n",
     "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"},
    {"client_host_header_kept_as_sent",
     "GET http://a.example/ HTTP/1.1\r\nhost: A.EXAMPLE:80\r\n\r\n",
     "GET / HTTP/1.1\r\nhost: A.EXAMPLE:80\r\n\r\n"},
    {"unknown_method_kept", "PURGE http://a.example/c HTTP/1.1\r\nHost: a.example\r\n\r\n",
     "PURGE /c HTTP/1.1\r\nHost: a.example\r\n\r\n"},
};

class EgressUpstreamHead : public ::testing::TestWithParam<Case> {};

TEST_P(EgressUpstreamHead, IsTheSameRequestInOriginForm) {
  const Case& c = GetParam();
  EXPECT_EQ(upstream_request_head(parse(c.client_head)), c.upstream_head);
}

INSTANTIATE_TEST_SUITE_P(Egress, EgressUpstreamHead, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace hull::egress
