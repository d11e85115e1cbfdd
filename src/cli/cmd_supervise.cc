// `hull __supervise DIR --ready-fd N` (hidden): the detached per-sandbox
// supervisor, started by sandbox_launch.cc. Same binary as the CLI so their
// versions always match.
#include "base/fd.h"
#include "cli/commands.h"
#include "supervisor/supervisor.h"

namespace hull::cli {

int cmd_supervise(const std::string& dir, int ready_fd) {
  if (ready_fd < 0) return fail("__supervise needs --ready-fd");
  return supervisor::run_supervisor(dir, UniqueFd(ready_fd));
}

}  // namespace hull::cli
