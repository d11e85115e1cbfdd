// The egress module: one confined process per sandbox that carries the
// sandbox's network connections out (HTTP proxy, CONNECT, SOCKS5), decides
// each against the policy (src/policy), resolves names itself and dials
// exactly the address it checked, and intercepts TLS only where a credential
// or method/path rule needs it. See ARCHITECTURE.md.
//
// Its parts so far (pure code, no sockets; every byte from the sandbox is
// hostile and bounded):
//   proxy_request.h    the opening bytes of a connection: HTTP proxy request or SOCKS5
//   request_target.h   CONNECT targets, http:// URLs and Host headers
//   request_body.h     where a forwarded request's body ends (keep-alive, smuggling)
//   upstream_head.h    the origin-form head sent upstream
//   proxy_responses.h  the HTTP responses and SOCKS replies the proxy sends
#pragma once
