// The egress module: one confined process per sandbox that carries the
// sandbox's network connections out (HTTP proxy, CONNECT, SOCKS5), decides
// each against the policy (src/policy), resolves names itself and dials
// exactly the address it checked, and intercepts TLS only where a credential
// or method/path rule needs it. See ARCHITECTURE.md.
#pragma once
