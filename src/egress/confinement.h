// What the egress process may still do once it has read its config: the
// process parses bytes from a hostile sandbox, so a bug there must find
// nothing to use.
//   capabilities   none (bounding, permitted, effective, inheritable,
//                  ambient all empty; no_new_privs)
//   files          Landlock: read the resolver's files in /etc (hosts,
//                  resolv.conf, nsswitch.conf, ...; not /etc whole, which
//                  holds shadow), the CA store, /usr (the resolver's NSS
//                  modules) and /dev/urandom; nothing written, created or
//                  executed anywhere
//   syscalls       seccomp: no exec, ptrace, mount, namespaces, module or
//                  key calls, no set*id, no chmod/chown; everything a
//                  network proxy needs stays (a deny list, not an allow
//                  list: the resolver's libraries make more calls than we
//                  could pin down honestly)
#pragma once

#include <string>

#include "base/result.h"

namespace hull::egress {

// Applies all three to the calling process (single-threaded at this point).
// Returns what it did, for the log: "no capabilities; landlock abi 6: ...".
Result<std::string> confine_egress_process();

}  // namespace hull::egress
