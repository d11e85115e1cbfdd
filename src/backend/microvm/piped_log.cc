#include "backend/microvm/piped_log.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace hull::backend::microvm {

bool PipedLog::drain() {
  if (eof_) return false;
  char buf[64 * 1024];
  // Bounded per call, so one chatty guest cannot hold the supervisor's loop.
  for (int round = 0; round < 64; ++round) {
    ssize_t n = ::read(source_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? true : (eof_ = true, false);
    if (n == 0) {
      eof_ = true;
      return false;
    }
    const uint64_t room = cap_ - std::min(cap_, written_);
    const size_t keep = static_cast<size_t>(std::min<uint64_t>(room, static_cast<uint64_t>(n)));
    if (keep < static_cast<size_t>(n)) overflowed_ = true;
    size_t done = 0;
    while (done < keep) {
      ssize_t w = ::write(file_.get(), buf + done, keep - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {  // the host's disk, not the guest: stop keeping, keep draining
        written_ = cap_;
        break;
      }
      done += static_cast<size_t>(w);
    }
    written_ += done;
  }
  return true;
}

}  // namespace hull::backend::microvm
