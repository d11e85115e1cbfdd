#include "cli/hidden_input.h"

#include <unistd.h>

namespace hull::cli {

namespace {

constexpr int kSignals[4] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// Read by the signal handler: plain globals, set before it is installed.
int g_fd = -1;
termios g_saved{};

void restore_then_redeliver(int sig) {
  ::tcsetattr(g_fd, TCSANOW, &g_saved);  // async-signal-safe
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

HiddenInput::HiddenInput(int fd) {
  if (::isatty(fd) == 0 || ::tcgetattr(fd, &g_saved) < 0) return;
  g_fd = fd;
  struct sigaction sa = {};
  sa.sa_handler = restore_then_redeliver;
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < 4; ++i) ::sigaction(kSignals[i], &sa, &old_[i]);
  termios quiet = g_saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK | ECHONL);
  active_ = ::tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
  if (!active_)
    for (int i = 0; i < 4; ++i) ::sigaction(kSignals[i], &old_[i], nullptr);
}

HiddenInput::~HiddenInput() {
  if (!active_) return;
  ::tcsetattr(g_fd, TCSANOW, &g_saved);
  for (int i = 0; i < 4; ++i) ::sigaction(kSignals[i], &old_[i], nullptr);
}

}  // namespace hull::cli
