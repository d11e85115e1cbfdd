// Pseudo-terminals for exec streams with tty=true. The master stays in the
// agent (output and input go through it); the slave becomes the child's
// controlling terminal on fds 0/1/2.
#pragma once

#include <cstdint>

#include "base/fd.h"
#include "base/result.h"

namespace hull::agent {

struct PtyPair {
  UniqueFd master;  // O_CLOEXEC; the agent reads/writes it
  UniqueFd slave;   // O_CLOEXEC|O_NOCTTY; dup2'd onto 0/1/2 in the child
};

// /dev/ptmx → unlock → the slave, with the initial window size already set.
Result<PtyPair> open_pty(uint16_t rows, uint16_t cols);
Status set_window_size(int master_fd, uint16_t rows, uint16_t cols);
// The byte the terminal treats as end-of-input (c_cc[VEOF], normally ^D).
char eof_char(int master_fd);

}  // namespace hull::agent
