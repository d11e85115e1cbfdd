// `hull __egress` (hidden): a sandbox's egress process, started by its
// supervisor with their link on fd 3 (supervisor/egress_bridge.h). Same
// binary as the CLI so their versions always match.
#include "base/fd.h"
#include "cli/commands.h"
#include "egress/egress_process.h"

namespace hull::cli {

int cmd_egress() { return egress::run_egress_process(UniqueFd(3)); }

}  // namespace hull::cli
