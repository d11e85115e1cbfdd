// The streaming client behind `hull run` (attached) and `hull exec`: opens
// one exec stream and relays our stdio to it until the process exits.
//
// Backpressure both ways, so memory stays bounded whatever the volumes:
//  - stdin: we read our stdin only after the previous chunk was accepted
//    (send_data suspends until the sandbox granted credit);
//  - stdout/stderr: a chunk is credited back (consume) only once it was
//    written to our own stdout/stderr, so a slow reader slows the process.
// Signals: SIGINT/SIGTERM/SIGHUP are forwarded to the process (a second
// SIGINT detaches and exits 130); SIGWINCH sends Resize when -t.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "wire/channel.h"
#include "wire/messages.h"

namespace hull::cli {

struct AttachOptions {
  wire::ExecRequest request;
  bool interactive = false;  // forward stdin; otherwise stdin gets EOF at once
  bool tty = false;          // raw mode on our terminal, Resize on SIGWINCH
};

// The process's exit code: its own, 128+signal, 127 not found, 126 not
// executable, 125 when hull failed (connection lost, stream reset).
boost::asio::awaitable<int> attach_exec(wire::Channel& ch, AttachOptions opts);

// Maps a final ExecExit to an exit code, printing a line for spawn errors
// and timeouts.
int exit_code_of(const wire::ExecExit& e);

}  // namespace hull::cli
