// A log file fed from a pipe or socket that the boundary's host process
// writes (a microVM's console, QEMU's own stderr), kept to a byte cap.
//
// Why not a file handed to QEMU with RLIMIT_FSIZE: that limit is per
// process, and would cap every file QEMU writes, the guest's workspace
// files on 9p among them. So QEMU writes into a socket, and hull copies
// at most `cap` bytes of it into the file; the rest is read and dropped
// (QEMU never blocks on a full socket) and the log says it overflowed.
//
//   PipedLog log(std::move(read_end), std::move(file), cap);
//   loop: wait until log.fd() is readable, then log.drain();   // false at EOF
#pragma once

#include <cstdint>

#include "base/fd.h"

namespace hull::backend::microvm {

class PipedLog {
 public:
  PipedLog(UniqueFd source, UniqueFd file, uint64_t cap)
      : source_(std::move(source)), file_(std::move(file)), cap_(cap) {}

  // Non-blocking source; watch it for readability.
  int fd() const { return source_.get(); }
  // Copies what is readable now (up to the cap; drops the rest), without
  // blocking: it stops when the source is empty (or after 4 MiB, so one
  // chatty guest cannot hold the caller). Returns false once the writer has
  // closed its end (nothing more will come), true otherwise.
  bool drain();
  bool overflowed() const { return overflowed_; }
  bool at_eof() const { return eof_; }

 private:
  UniqueFd source_;
  UniqueFd file_;
  uint64_t cap_;
  uint64_t written_ = 0;
  bool overflowed_ = false;
  bool eof_ = false;
};

}  // namespace hull::backend::microvm
