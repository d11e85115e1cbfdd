#include "cli/tty.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace hull::cli {

RawTerminal::RawTerminal(int fd) : fd_(fd) {
  if (::isatty(fd) == 0 || ::tcgetattr(fd, &saved_) < 0) return;
  termios raw = saved_;
  ::cfmakeraw(&raw);
  if (::tcsetattr(fd, TCSADRAIN, &raw) == 0) active_ = true;
}

RawTerminal::~RawTerminal() {
  if (active_) ::tcsetattr(fd_, TCSADRAIN, &saved_);
}

std::optional<WindowSize> terminal_size() {
  for (int fd : {0, 1, 2}) {
    winsize ws{};
    if (::isatty(fd) != 0 && ::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
      return WindowSize{ws.ws_row, ws.ws_col};
  }
  return std::nullopt;
}

StdioFlagsGuard::StdioFlagsGuard() {
  for (int fd = 0; fd < 3; ++fd) flags_[fd] = ::fcntl(fd, F_GETFL);
}

StdioFlagsGuard::~StdioFlagsGuard() {
  for (int fd = 0; fd < 3; ++fd)
    if (flags_[fd] >= 0) ::fcntl(fd, F_SETFL, flags_[fd]);
}

}  // namespace hull::cli
