// What the guest's serial console says about how the VM ended.
//
// The console log is written by the guest: every byte is hostile input. This
// reads at most its last kConsoleTailBytes, and what it hands back is safe to
// print on a terminal (control bytes and escape sequences become '?', lines
// are cut to kConsoleLineMax).
//
//   auto v = judge_console(tail_bytes, log_reached_cap);
//   v.summary  "guest kernel panicked: VFS: Unable to mount root fs ..." |
//              "guest agent stopped: vm init: mount /dev/vda: ..."        |
//              "guest flooded its console (log capped at 1 MiB)"         | ""
//   v.tail     the last few lines, sanitized, for the error report
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace hull::backend::microvm {

inline constexpr size_t kConsoleTailBytes = 16 * 1024;
inline constexpr size_t kConsoleLineMax = 200;
inline constexpr size_t kConsoleTailLines = 12;

struct ConsoleVerdict {
  std::string summary;            // one line; empty = nothing notable
  std::vector<std::string> tail;  // last lines, oldest first
};

ConsoleVerdict judge_console(std::string_view tail_bytes, bool reached_cap);

// Replaces every byte that is not printable ASCII (or tab) with '?', and cuts
// to `max` bytes (marking the cut with "...").
std::string printable(std::string_view line, size_t max = kConsoleLineMax);

// Reads the last kConsoleTailBytes of `path` and judges them; `cap` is the
// size at which QEMU's writes start failing (RLIMIT_FSIZE).
Result<ConsoleVerdict> judge_console_file(const std::string& path, uint64_t cap);

// "summary\n  console (last N lines of PATH):\n  | line\n..." for an error.
std::string describe_console(const ConsoleVerdict& v, const std::string& path);

}  // namespace hull::backend::microvm
