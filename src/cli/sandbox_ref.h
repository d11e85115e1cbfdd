// Finding an existing sandbox by name and talking to its supervisor from the
// outside: its record on disk, its control socket, waiting for it to exit.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"
#include "supervisor/sandbox_record.h"

namespace hull::cli {

struct SandboxRef {
  std::string name;
  std::string dir;
  supervisor::SandboxSpec spec;
  supervisor::SandboxState state;  // as observed (dead supervisor → failed)
};

// "no sandbox named 'a' — see hull ls -a" when it does not exist.
Result<SandboxRef> find_sandbox(const std::string& name);
// Names of every sandbox directory, sorted.
std::vector<std::string> sandbox_names();
// Run at the start of every command: reap sandboxes whose supervisor died.
void reap_dead_sandboxes();

bool is_final(supervisor::SandboxStatus s);

// Connects to a supervisor's control socket (handles paths longer than
// sun_path by going through /proc/self/fd of the parent directory).
Result<UniqueFd> connect_control(const std::string& socket_path);

// Waits until the sandbox's supervisor process is gone. Prints one progress
// line to stderr if it takes longer than a second. Error on timeout.
Status wait_supervisor_exit(const SandboxRef& sb, std::chrono::milliseconds timeout);

// Removes the socket and the sandbox directory of a sandbox whose
// supervisor is gone. Refuses if anything is still mounted below the
// directory: remove_all would walk into the mount (e.g. a bind-mounted
// workspace) and delete the user's files.
Status remove_sandbox_record(const SandboxRef& sb);

}  // namespace hull::cli
