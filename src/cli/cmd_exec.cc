// `hull exec NAME -- CMD`: one more process in a running sandbox, attached
// to our stdio through the supervisor (role "client").
#include <cstdlib>

#include "image/image_user.h"
#include "cli/client_session.h"
#include "cli/commands.h"
#include "cli/exec_client.h"
#include "cli/sandbox_ref.h"

namespace hull::cli {

int cmd_exec(const ExecOptions& o) {
  if (o.process.command.empty()) return fail("no command given", "usage: hull exec [flags] NAME -- CMD [ARGS...]");
  for (const auto& kv : o.process.env)
    if (kv.find('=') == std::string::npos || kv.front() == '=')
      return fail("bad --env '" + kv + "'", "use --env KEY=VALUE");
  if (!o.process.workdir.empty() && o.process.workdir.front() != '/')
    return fail("bad -w '" + o.process.workdir + "'", "the working directory must be an absolute path inside the sandbox");
  auto sb = find_sandbox(o.name);
  if (!sb) return fail(sb.error());
  if (sb->state.status != supervisor::SandboxStatus::kRunning)
    return fail("sandbox '" + o.name + "' is not running (status: " + supervisor::status_name(sb->state.status) + ")",
                "start a new one with hull run");

  wire::ExecRequest r;
  r.argv = o.process.command;
  if (o.process.tty) {
    const char* term = std::getenv("TERM");
    r.env.push_back(std::string("TERM=") + (term != nullptr && *term != '\0' ? term : "xterm"));
  }
  r.env.insert(r.env.end(), o.process.env.begin(), o.process.env.end());
  r.cwd = !o.process.workdir.empty() ? o.process.workdir : (sb->spec.workspace.empty() ? "/" : "/workspace");
  r.tty = o.process.tty;
  r.uid = sb->spec.uid;
  r.gid = sb->spec.gid;
  if (!o.user.empty()) {
    auto who = image::resolve_image_user(sb->spec.rootfs, o.user);
    if (!who) return fail(who.error());
    r.uid = who->uid;
    r.gid = who->gid;
  }
  AttachOptions attach{r, o.process.interactive, o.process.tty};
  return run_session(sb->state.socket, "client", [&](wire::Channel& ch) { return attach_exec(ch, attach); });
}

}  // namespace hull::cli
