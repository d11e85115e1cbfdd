// The CLI half of the supervisor start-up protocol (supervisor/supervisor.h):
//   1. mkdir the sandbox dir exclusively (EEXIST → "name already in use")
//   2. write_spec()
//   3. spawn `hull __supervise <dir> --ready-fd N` fully detached (double
//      fork + setsid, stdio on /dev/null) so it outlives this CLI
//   4. read the ready pipe to EOF: "ok" or "error: <one line>"
#pragma once

#include <string>

#include "base/result.h"
#include "supervisor/sandbox_record.h"

namespace hull::cli {

// Steps 1-2: returns the new sandbox directory.
Result<std::string> create_sandbox(const supervisor::SandboxSpec& spec);
// Steps 3-4: ok once the supervisor reported "ok".
Status start_supervisor(const std::string& sandbox_dir);

// "hull-" + 6 random hex digits.
std::string generate_sandbox_name();

}  // namespace hull::cli
