#include "agent/pty.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>

#include "base/sys.h"

namespace hull::agent {

Result<PtyPair> open_pty(uint16_t rows, uint16_t cols) {
  PtyPair p;
  p.master = UniqueFd(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!p.master) return sys_error("open /dev/ptmx", errno, "is devpts mounted at /dev/pts?");
  // On devpts, grantpt has nothing left to do (the slave is created with the
  // right owner); kept for portability, its failure is still reported.
  if (::grantpt(p.master.get()) < 0) return sys_error("grantpt");
  if (::unlockpt(p.master.get()) < 0) return sys_error("unlockpt");
  // TIOCGPTPEER opens the slave through the master, so it cannot be confused
  // by a different devpts instance mounted at /dev/pts. Fall back to the
  // path for kernels older than 4.13.
  int slave = ::ioctl(p.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave >= 0) {
    p.slave = UniqueFd(slave);
  } else {
    char name[128];
    if (::ptsname_r(p.master.get(), name, sizeof name) != 0) return sys_error("ptsname");
    HULL_ASSIGN(p.slave, sys::open(name, O_RDWR | O_NOCTTY));
  }
  HULL_TRY(set_window_size(p.master.get(), rows, cols));
  return p;
}

Status set_window_size(int master_fd, uint16_t rows, uint16_t cols) {
  struct winsize ws {};
  ws.ws_row = rows;
  ws.ws_col = cols;
  if (::ioctl(master_fd, TIOCSWINSZ, &ws) < 0) return sys_error("TIOCSWINSZ");
  return ok_status();
}

char eof_char(int master_fd) {
  struct termios t {};
  if (::tcgetattr(master_fd, &t) == 0 && t.c_cc[VEOF] != _POSIX_VDISABLE)
    return static_cast<char>(t.c_cc[VEOF]);
  return '\x04';
}

}  // namespace hull::agent
