// The per-sandbox supervisor: one detached process per sandbox, started by
// the CLI as `hull __supervise <sandbox_dir> --ready-fd N`.
//
// Start-up protocol with the CLI:
//   1. CLI: mkdir sandbox_dir (exclusive; EEXIST → "name already in use"),
//      write_spec(), spawn the supervisor detached (setsid, stdio on
//      /dev/null) with the write end of a pipe as ready_fd.
//   2. Supervisor: reap leftovers, boot the backend, handshake with the agent
//      (Hello, then wait for Ready), listen on the control socket (0600),
//      write state.json {running}, then write "ok\n" to ready_fd and close it.
//      On any failure: state.json {failed, error}, "error: <one line>\n" to
//      ready_fd, tear down, exit 1.
//   3. CLI connects to state.socket and speaks the wire protocol as
//      Side::kInitiator with Hello.role = "run" (the attached `hull run`: its
//      FIRST exec stream is the sandbox's main command) or "client" (exec, cp).
//      In detach mode the supervisor starts spec.command itself (output to
//      main.log). When the main command ends, its exit code goes to
//      state.json and the sandbox shuts down.
//   4. A Shutdown message on stream 0 from any client, or SIGTERM, stops the
//      sandbox: agent Shutdown (grace), backend destroy, state exited, socket
//      removed, supervisor exits.
// Everything the agent sends is untrusted: a channel violation kills the
// sandbox, status failed, error says why; other sandboxes are unaffected.
#pragma once

#include <string>

#include "base/fd.h"
#include "base/result.h"
#include "supervisor/sandbox_record.h"

namespace hull::supervisor {

// Runs until the sandbox is gone. Returns the process exit code.
int run_supervisor(const std::string& sandbox_dir, UniqueFd ready_fd);

// State as a reader should show it: a non-final state whose supervisor pid is
// gone (or is not ours) is reported as failed with error "supervisor died".
Result<SandboxState> observed_state(const std::string& sandbox_dir);

// If the sandbox's supervisor is dead, remove what it left (processes,
// cgroups, socket) and mark the state final. No-op for a live or final one.
Status reap_if_dead(const std::string& sandbox_dir);

}  // namespace hull::supervisor
