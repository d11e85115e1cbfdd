// One exec stream: spawn the requested command, relay stdin/stdout/stderr
// (pipes or a PTY) with flow control, forward Resize/Signal, enforce the
// timeout, and end with ExecExit once the process exited AND its output
// reached EOF.
//
// Choices worth knowing:
// - Output is read in chunks of at most 64 KiB and each chunk is sent with
//   send_data(), which waits for the host's credit: a fast producer blocks
//   on its full pipe, and the agent holds at most one chunk per stream.
// - Eof(kStdin) closes the child's stdin pipe; with a PTY the master must stay
//   open (closing it hangs up the terminal and loses output), so the agent
//   types the terminal's VEOF character (^D) instead, which a reader in
//   canonical mode sees as end of input.
// - Host reset or channel loss SIGKILLs the process group.
#pragma once

#include <memory>

#include <boost/asio/awaitable.hpp>

#include "agent/agent_state.h"
#include "wire/channel.h"
#include "wire/messages.h"

namespace hull::agent {

boost::asio::awaitable<void> serve_exec(AgentState& state, std::shared_ptr<wire::Stream> stream,
                                        wire::ExecRequest req);

}  // namespace hull::agent
