// The request head the proxy sends to the origin for a forwarded request
// (ProxyProtocol::kHttpForward): the same request in origin-form.
//
//   GET http://example.com/a?b HTTP/1.1        GET /a?b HTTP/1.1
//   Host: example.com                    →     Host: example.com
//   Proxy-Connection: keep-alive               Accept: */*
//   Accept: */*
//
// - the request-target becomes path?query; method and HTTP version are kept;
// - hop-by-hop fields are removed: Connection and every field it names,
//   Proxy-Connection, Keep-Alive, Proxy-Authorization, Proxy-Authenticate,
//   TE, Trailer and Upgrade. Upgrade is removed rather than refused: the
//   origin then answers as to a plain request (h2c upgrades are optional),
//   and WebSocket clients reach ws:// through CONNECT, as they do by default;
// - Host, Content-Length and Transfer-Encoding are always kept, even when
//   Connection names them: the body is forwarded as framed, so the origin
//   must see the framing the proxy used (removing it would be smuggling);
// - Host is added (first) when the client sent none.
// The proxy adds its own Connection field if it wants one.
#pragma once

#include <string>

#include "egress/proxy_request.h"

namespace hull::egress {

std::string upstream_request_head(const ProxyRequest& request);

}  // namespace hull::egress
