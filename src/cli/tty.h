// The local terminal while attached to a sandbox process: raw mode for -t
// (restored by RAII — the attach loop catches INT/TERM/HUP/QUIT so the
// destructor runs on those too), the window size for the PTY, and the
// O_NONBLOCK flags of our stdio, which Asio sets on file descriptions we
// share with the parent shell and which must be put back before we exit.
#pragma once

#include <termios.h>

#include <cstdint>
#include <optional>

namespace hull::cli {

class RawTerminal {
 public:
  // No-op (active() false) when fd is not a terminal.
  explicit RawTerminal(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  bool active() const { return active_; }

 private:
  int fd_;
  bool active_ = false;
  termios saved_{};
};

struct WindowSize {
  uint16_t rows = 24;
  uint16_t cols = 80;
};
// TIOCGWINSZ of the first of stdin/stdout/stderr that is a terminal.
std::optional<WindowSize> terminal_size();

class StdioFlagsGuard {
 public:
  StdioFlagsGuard();
  ~StdioFlagsGuard();
  StdioFlagsGuard(const StdioFlagsGuard&) = delete;
  StdioFlagsGuard& operator=(const StdioFlagsGuard&) = delete;

 private:
  int flags_[3] = {-1, -1, -1};
};

}  // namespace hull::cli
