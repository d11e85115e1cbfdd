// The egress process's main: one per sandbox, started by its supervisor as
// `hull __egress` with their link (control_link.h) on fd 3.
//
//   1. read the config (the first message), build the policy from it
//   2. confine itself (confinement.h): after this it can open no file for
//      writing, exec nothing, hold no capability
//   3. for each {"conn"} message and its fd: serve that connection
//      (connection.h) concurrently, and send one {"event"} per attempt
//
// It exits when the link closes (the supervisor is gone or stopping).
#pragma once

#include "base/fd.h"

namespace hull::egress {

int run_egress_process(UniqueFd link);

}  // namespace hull::egress
