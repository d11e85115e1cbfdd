// Terminal echo off while a secret is typed (`hull secret set NAME` at a
// prompt), so the value never shows on screen or in a terminal's scrollback.
#pragma once

#include <signal.h>
#include <termios.h>

namespace hull::cli {

// Turns ECHO off on `fd` if it is a terminal (active() says whether it
// did); the line discipline stays canonical, so the value ends at Enter.
// Echo comes back on destruction, and also when INT, TERM, HUP or QUIT
// arrives meanwhile: the handler restores the terminal, then lets the
// signal do what it would have done. One at a time per process.
class HiddenInput {
 public:
  explicit HiddenInput(int fd);
  ~HiddenInput();
  HiddenInput(const HiddenInput&) = delete;
  HiddenInput& operator=(const HiddenInput&) = delete;
  bool active() const { return active_; }

 private:
  bool active_ = false;
  struct sigaction old_[4] = {};
};

}  // namespace hull::cli
