// One CLI connection to a sandbox's supervisor: connect to the control
// socket, speak the wire protocol as Side::kInitiator, Hello with our role
// ("run" for an attached `hull run`, "client" for everything else), keep the
// channel's read loop running, and run one command's body on it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>

#include "wire/channel.h"

namespace hull::cli {

using SessionBody = std::function<boost::asio::awaitable<int>(wire::Channel&)>;

// Returns the body's exit code; prints the error and returns 125 when the
// connection or handshake fails. The channel is closed after the body.
// report_errors=false: stay silent on connection failures (callers with a
// fallback, like stop).
int run_session(const std::string& socket_path, const std::string& role, const SessionBody& body,
                bool report_errors = true);

}  // namespace hull::cli
