// Command: the one way hull runs an external program (mmdebstrap, git, qemu).
// argv only — never a shell; logged at debug level; stderr kept (bounded) so a
// failure message can quote it.
//
//   auto r = Command("mmdebstrap").arg("--variant=minbase").arg(suite).arg(dir)
//                .stream_stderr_to(2)   // optional: show progress live
//                .run();
//   if (!r) ... r.error().message() includes the tail of stderr.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace hull {

struct CommandOutput {
  int exit_code = 0;  // 128+signal when killed by a signal
  std::string out;    // stdout, when captured
  std::string err_tail;  // last ~4 KiB of stderr
};

class Command {
 public:
  explicit Command(std::string program);
  Command& arg(std::string a);
  Command& args(const std::vector<std::string>& as);
  Command& env(std::string key_eq_value);  // added to the inherited environment
  Command& cwd(std::string dir);
  // The child's stdin is this file (default: inherited).
  Command& stdin_from(std::string path);
  Command& capture_stdout(size_t max_bytes = 16u << 20);
  // Stream the child's stdout into a new file (0600). Past max_bytes the
  // child is killed and run() fails: the writer may be a hostile sandbox.
  Command& stdout_to_file(std::string path, uint64_t max_bytes);
  // Copy the child's stderr to this fd as it arrives (progress), and keep a tail.
  Command& stream_stderr_to(int fd);

  // Runs to completion. Non-zero exit is an Error unless allow_failure().
  Command& allow_failure();
  Result<CommandOutput> run() const;

  std::string display() const;  // "mmdebstrap --variant=minbase ..." for logs

 private:
  std::vector<std::string> argv_;
  std::vector<std::string> env_;
  std::optional<std::string> cwd_;
  std::optional<std::string> stdin_path_;
  std::optional<size_t> capture_max_;
  std::optional<std::string> stdout_path_;
  uint64_t stdout_file_max_ = 0;
  int stderr_copy_fd_ = -1;
  bool allow_failure_ = false;
};

// Search $PATH; empty when not found.
std::string find_program(const std::string& name);

}  // namespace hull
