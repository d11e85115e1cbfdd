// Starting one exec request's process: fork, set up the child, exec.
//
// Between fork and exec the child allocates nothing: everything it needs
// (argv/envp arrays, PATH candidates) is built before the fork. A failing step
// writes {step, errno} to a close-on-exec pipe and _exits; EOF on that pipe
// without a report means exec succeeded.
//
// Usage:
//   1. auto child = start_child(req);      — Error: nothing was forked
//   2. reaper.watch(child->pid)            — immediately
//   3. read child->error_pipe to EOF; if it held a ChildReport,
//      describe_failure() turns it into ExecExit fields
#pragma once

#include <sys/types.h>

#include <string>

#include "base/fd.h"
#include "base/result.h"
#include "wire/messages.h"

namespace hull::agent {

enum class ChildStep : int { kSignals, kSetsid, kTerminal, kStdio, kGroups, kGid, kUid, kChdir, kExec };

// What the child writes to the error pipe when a step fails.
struct ChildReport {
  ChildStep step;
  int err;
};

struct Child {
  pid_t pid = -1;
  UniqueFd error_pipe;  // read end; EOF = exec happened
  // Pipes mode:
  UniqueFd stdin_w, stdout_r, stderr_r;
  // PTY mode: the master carries input and output.
  UniqueFd pty_master;
};

Result<Child> start_child(const wire::ExecRequest& req);

struct SpawnFailure {
  wire::SpawnError kind = wire::SpawnError::kOther;
  std::string message;
};
SpawnFailure describe_failure(const ChildReport& r, const wire::ExecRequest& req);

}  // namespace hull::agent
