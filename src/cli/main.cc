// hull: command-line front end. Parses flags (CLI11) into the option structs
// of commands.h and dispatches on the closed CommandKind set.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "base/log.h"
#include "cli/commands.h"
#include "cli/sandbox_ref.h"

namespace hull::cli {
namespace {

// Everything after the first "--" of `run`/`exec` is the command, untouched
// (CLI11 would otherwise parse "sh -c ..." flags as ours).
struct SplitArgs {
  std::vector<std::string> ours;  // reversed, as CLI11's parse(vector) wants
  std::optional<std::vector<std::string>> command;
};

SplitArgs split_argv(int argc, char** argv) {
  SplitArgs s;
  std::vector<std::string> head;
  bool takes_command = argc > 1 && (std::strcmp(argv[1], "run") == 0 || std::strcmp(argv[1], "exec") == 0);
  for (int i = 1; i < argc; ++i) {
    if (takes_command && !s.command && std::strcmp(argv[i], "--") == 0) {
      s.command.emplace(argv + i + 1, argv + argc);
      break;
    }
    head.emplace_back(argv[i]);
  }
  s.ours.assign(head.rbegin(), head.rend());
  return s;
}

void add_process_flags(CLI::App* sub, ProcessFlags& p) {
  sub->add_flag("-i,--interactive", p.interactive, "Keep stdin open and forward it");
  sub->add_flag("-t,--tty", p.tty, "Allocate a pseudo-terminal");
  sub->add_option("-e,--env", p.env, "Set an environment variable (KEY=VALUE), repeatable");
  sub->add_option("-w,--workdir", p.workdir, "Working directory inside the sandbox");
}

}  // namespace

int main_impl(int argc, char** argv) {
  log::init("hull", "warn");
  // A closed stdout (hull ... | head) must be an EPIPE we handle, not death.
  ::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"hull: run untrusted code in a sandbox and keep evidence of what happened"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(HULL_VERSION));
  app.footer("Example: hull run --rm -it --workspace . -- bash");

  RunOptions run;
  auto* c_run = app.add_subcommand("run", "Create a sandbox and run a command in it");
  add_process_flags(c_run, run.process);
  c_run->add_flag("--rm", run.remove, "Remove the sandbox when the command ends");
  c_run->add_flag("-d,--detach", run.detach, "Run in the background and print the sandbox name");
  c_run->add_option("--name", run.name, "Sandbox name (default: hull-<6 hex>)");
  c_run->add_option("--workspace", run.workspace, "Host directory mounted at /workspace");
  c_run->add_flag("--workspace-ro", run.workspace_ro, "Mount the workspace read-only");
  c_run->add_option("--cpus", run.cpus, "CPU limit, e.g. 1.5");
  c_run->add_option("--memory", run.memory, "Memory limit, e.g. 512m or 2g");
  c_run->add_option("--pids", run.pids, "Process limit (default: the backend's, 1024)")->check(CLI::Range(1u, 4194304u));
  c_run->add_option("--disk", run.disk,
                    "Size of the writable layer over the image (tmpfs; default 1g), e.g. 4g. "
                    "Writes beyond it fail with ENOSPC; the image never changes");
  c_run->add_option("--timeout", run.timeout, "Kill the command after this long, e.g. 30s, 5m, 1h");
  c_run->add_option("--backend", run.backend, "namespace | microvm | auto (default auto, or $HULL_BACKEND)")
      ->envname("HULL_BACKEND")
      ->check(CLI::IsMember({"namespace", "microvm", "auto"}));
  c_run->add_option("--image", run.image,
                    "Image to run: 'default' (Debian bookworm), a tag/digest from hull image ls, or a "
                    "hull.toml (or its directory, e.g. '.') built first when it changed; "
                    "its Cmd runs when no command is given. A hull.toml's [sandbox] table gives the "
                    "defaults (limits, backend, workspace = its directory); flags win");
  c_run->add_option("-u,--user", run.user,
                    "Run as this user of the image: name, uid or uid:gid (default: the image's user, else root)");
  c_run->add_option("--rootfs", run.rootfs, "internal: run a prepared root filesystem (the image builder's)")
      ->group("")
      ->excludes("--image");
  c_run->add_flag("--weaken-for-package-install", run.weaken_for_package_install,
                  "internal: the image builder's namespace sandbox (root keeps chown/chroot/mount in its "
                  "user namespace, set-id files allowed, no Landlock; needs --rootfs and a read-only workspace)")
      ->group("")
      ->needs("--rootfs");
  c_run->add_option("--network", run.network,
                    "none: no network at all (the default for now). locked | balanced | open: the sandbox's only "
                    "way out is hull's egress proxy (HTTP_PROXY & co. are set), which allows nothing (locked), "
                    "the model APIs and code hosts of hull's table (balanced), or every public "
                    "address (open); private and loopback addresses only by an explicit CIDR --allow")
      ->check(CLI::IsMember({"none", "locked", "balanced", "open"}));
  c_run->add_option("--allow", run.allow,
                    "Allow egress to RULE (repeatable): NAME, *.DOMAIN (subdomains), NAME:PORT, a CIDR such as "
                    "10.0.0.0/8:443, or 'GET,HEAD NAME/PATH*' for methods and a path");
  c_run->add_option("--deny", run.deny, "Refuse egress to RULE (repeatable; same forms as --allow; deny wins)");
  c_run->add_option("command", run.process.command, "Command and arguments (after --)");
  c_run->footer("Example: hull run --rm --workspace . -- sh -c 'make test'\n"
                "         hull run --rm --network locked --allow pypi.org --allow files.pythonhosted.org -- pip download six");

  ExecOptions exec;
  auto* c_exec = app.add_subcommand("exec", "Run another command in a running sandbox");
  add_process_flags(c_exec, exec.process);
  c_exec->add_option("-u,--user", exec.user, "Run as this user of the image (default: the sandbox's user)");
  c_exec->add_option("name", exec.name, "Sandbox name")->required();
  c_exec->add_option("command", exec.process.command, "Command and arguments (after --)");
  c_exec->footer("Example: hull exec -it mybox -- bash");

  bool json = false, all = false, force = false, follow = false, sup_log = false, console_log = false, print_path = false;
  bool raw_log = false;
  std::string name, src, dst, dir, service_log;
  std::vector<std::string> names;
  int ready_fd = -1;

  auto* c_ls = app.add_subcommand("ls", "List sandboxes");
  c_ls->add_flag("--json", json, "Print JSON");
  c_ls->add_flag("-a,--all", all, "Include stopped sandboxes");
  c_ls->footer("Example: hull ls -a --json");

  auto* c_inspect = app.add_subcommand("inspect", "Show everything on record about a sandbox");
  c_inspect->add_flag("--json", json, "Print JSON");
  c_inspect->add_option("name", name, "Sandbox name")->required();
  c_inspect->footer("Example: hull inspect --json mybox");

  auto* c_stop = app.add_subcommand("stop", "Stop a running sandbox");
  c_stop->add_option("name", name, "Sandbox name")->required();
  c_stop->footer("Example: hull stop mybox");

  auto* c_rm = app.add_subcommand("rm", "Remove sandboxes");
  c_rm->add_flag("-f,--force", force, "Stop running sandboxes first");
  c_rm->add_option("names", names, "Sandbox names")->required();
  c_rm->footer("Example: hull rm -f mybox");

  auto* c_cp = app.add_subcommand("cp", "Copy a file between the host and a sandbox (NAME:/path; '-' = stdin/stdout)");
  c_cp->add_option("src", src, "Source")->required();
  c_cp->add_option("dst", dst, "Destination")->required();
  c_cp->footer("Host paths follow no symlink (a sandbox could have planted it): a symlinked directory is refused,\n"
                "a symlink at DST is replaced. A download writes at most the size the sandbox announced.\n"
                "Example: hull cp ./data.csv mybox:/workspace/data.csv");

  auto* c_logs = app.add_subcommand("logs", "Print the output of a detached sandbox's main command");
  c_logs->add_flag("-f,--follow", follow, "Keep printing until the sandbox ends");
  c_logs->add_flag("--supervisor", sup_log, "Print the supervisor's log instead");
  c_logs->add_flag("--console", console_log,
                   "Print the microVM guest's console (kernel messages; capped at 1 MiB, control bytes as '?')")
      ->excludes("--supervisor");
  c_logs->add_option("--service", service_log, "Print this service's log (a [[service]] of the image's hull.toml)")
      ->excludes("--supervisor")
      ->excludes("--console");
  c_logs->add_flag("--raw", raw_log,
                   "Print the bytes as the sandbox wrote them, even on a terminal (by default a terminal gets "
                   "control bytes and escape sequences as '?': the sandbox must not drive it)");
  bool network_log = false;
  c_logs->add_flag("--network", network_log,
                   "Print the sandbox's network attempts, allowed and refused: time, method, host:port, the "
                   "address dialled, the rule that decided, bytes each way, duration, client")
      ->excludes("--supervisor")
      ->excludes("--console")
      ->excludes("--service");
  c_logs->add_flag("--json", json, "With --network: the events as JSON lines");
  c_logs->add_option("name", name, "Sandbox name")->required();
  c_logs->footer("Example: hull logs -f mybox\n         hull logs --network -f --json mybox");

  auto* c_doctor = app.add_subcommand("doctor", "Check what this host supports");
  c_doctor->add_flag("--json", json, "Print JSON");
  c_doctor->footer("Example: hull doctor --json");

  auto* c_image = app.add_subcommand("image", "Manage images");
  c_image->require_subcommand(1);
  auto* c_prepare = c_image->add_subcommand("prepare-default", "Build (or find) the default image");
  c_prepare->add_flag("--print-path", print_path, "Print the rootfs path on stdout");
  c_prepare->footer("Example: hull image prepare-default --print-path");
  auto* c_img_ls = c_image->add_subcommand("ls", "List images in the store, with their tags");
  c_img_ls->add_flag("--json", json, "Print JSON");
  c_img_ls->footer("Example: hull image ls --json");
  auto* c_img_inspect = c_image->add_subcommand("inspect", "Show an image: digests, config, packages (SBOM)");
  c_img_inspect->add_flag("--json", json, "Print JSON (with every package and version)");
  c_img_inspect->add_option("ref", name, "Tag, digest (sha256:...) or a unique digest prefix")->required();
  c_img_inspect->footer("Example: hull image inspect --json myimage");
  std::string tag;
  auto* c_img_import = c_image->add_subcommand(
      "import", "Import a `docker save` archive or an OCI layout tar (layers checked; no path may escape)");
  c_img_import->add_option("archive", src, "The .tar file")->required()->check(CLI::ExistingFile);
  c_img_import->add_option("--tag", tag, "Name it (lower-case letters, digits, . _ - :)");
  c_img_import->add_flag("--json", json, "Print the imported image as JSON");
  c_img_import->footer("Example: docker save alpine:3 -o alpine.tar && hull image import alpine.tar --tag alpine");
  ImageBuildArgs build;
  auto* c_img_build = c_image->add_subcommand(
      "build", "Build an image from hull.toml (debian: pinned by hull.lock, same lock = same digest)");
  c_img_build->add_option("path", build.path, "hull.toml, or the directory holding it (default: .)");
  c_img_build->add_option("--tag", build.tag, "Name it (lower-case letters, digits, . _ - :)");
  c_img_build->add_flag("--update", build.update, "Re-resolve packages from the archive and rewrite hull.lock");
  c_img_build->add_flag("--locked", build.locked, "Fail instead of changing hull.lock (for CI)")->excludes("--update");
  c_img_build->add_flag("--no-cache", build.no_cache, "Build even when nothing changed since the last build");
  c_img_build->add_flag("--json", build.json, "Print the built image as JSON");
  c_img_build->footer(
      "A first build resolves packages and writes hull.lock next to hull.toml; later builds install\n"
      "exactly what it pins (from a local .deb cache when possible) and give the same digest.\n"
      "Example: hull image build . --tag myapp && hull run --image myapp");
  auto* c_img_rm = c_image->add_subcommand("rm", "Remove tags; an image goes with its last tag (or by digest)");
  c_img_rm->add_option("refs", names, "Tags or digests")->required();
  c_img_rm->footer("Example: hull image rm myimage");
  auto* c_img_gc = c_image->add_subcommand("gc", "Remove untagged images no sandbox uses, and killed imports");
  c_img_gc->footer("Example: hull image gc");

  auto* c_secret = app.add_subcommand("secret", "Manage API keys and tokens that --credential injects on the way out");
  c_secret->require_subcommand(1);
  c_secret->footer(
      "Secrets stay on the host (under the data directory, 0600). A sandbox run with --credential gets a\n"
      "placeholder in the provider's variable (ANTHROPIC_API_KEY=hull-placeholder-anthropic); hull's egress\n"
      "proxy puts the real header on requests to that provider's host only.\n"
      "Built-in providers: anthropic, openai, gemini, github (the secret of that name), or a rule of your own:\n"
      "  --credential 'api.example.com=Authorization:Bearer {secret:example}'\n"
      "(`hull run --credential` arrives with the proxy's TLS interception, issue 13.5; until then secrets\n"
      "are stored and listed only.)\n"
      "Example: hull secret set anthropic < key.txt && hull run --credential anthropic -- claude");
  std::string from_file;
  auto* c_secret_set = c_secret->add_subcommand("set", "Store a secret (replaces one of the same name)");
  c_secret_set->add_option("name", name, "Name: a-z, 0-9, '_', '-' (a provider's name enables its built-in rule)")
      ->required();
  c_secret_set->add_option("--from-file", from_file,
                           "Read the value from this file (default: stdin; typed hidden at a terminal). "
                           "One trailing newline is dropped");
  c_secret_set->footer(
      "Example: hull secret set anthropic --from-file ~/.config/anthropic.key\n"
      "         printf %s \"$OPENAI_API_KEY\" | hull secret set openai\n"
      "         hull secret set github        (prompts; the value is not shown)\n"
      "Then:    hull run --credential anthropic --credential github -- claude");
  auto* c_secret_ls = c_secret->add_subcommand("ls", "List secret names (never values)");
  c_secret_ls->add_flag("--json", json, "Print JSON: name and modification time");
  c_secret_ls->footer("Example: hull secret ls --json");
  auto* c_secret_rm = c_secret->add_subcommand("rm", "Remove secrets");
  c_secret_rm->add_option("names", names, "Secret names")->required();
  c_secret_rm->footer("Example: hull secret rm openai");

  auto* c_sup = app.add_subcommand("__supervise", "internal: the per-sandbox supervisor");
  c_sup->group("");  // hidden
  c_sup->add_option("dir", dir)->required();
  c_sup->add_option("--ready-fd", ready_fd)->required();

  auto* c_egress = app.add_subcommand("__egress", "internal: a sandbox's egress process (link on fd 3)");
  c_egress->group("");  // hidden

  SplitArgs split = split_argv(argc, argv);
  try {
    app.parse(split.ours);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitHullError;
  }

  std::optional<CommandKind> kind;
  if (c_run->parsed()) kind = CommandKind::kRun;
  else if (c_exec->parsed()) kind = CommandKind::kExec;
  else if (c_ls->parsed()) kind = CommandKind::kLs;
  else if (c_inspect->parsed()) kind = CommandKind::kInspect;
  else if (c_stop->parsed()) kind = CommandKind::kStop;
  else if (c_rm->parsed()) kind = CommandKind::kRm;
  else if (c_cp->parsed()) kind = CommandKind::kCp;
  else if (c_logs->parsed()) kind = CommandKind::kLogs;
  else if (c_doctor->parsed()) kind = CommandKind::kDoctor;
  else if (c_prepare->parsed()) kind = CommandKind::kImagePrepare;
  else if (c_img_ls->parsed()) kind = CommandKind::kImageLs;
  else if (c_img_inspect->parsed()) kind = CommandKind::kImageInspect;
  else if (c_img_import->parsed()) kind = CommandKind::kImageImport;
  else if (c_img_rm->parsed()) kind = CommandKind::kImageRm;
  else if (c_img_build->parsed()) kind = CommandKind::kImageBuild;
  else if (c_img_gc->parsed()) kind = CommandKind::kImageGc;
  else if (c_secret_set->parsed()) kind = CommandKind::kSecretSet;
  else if (c_secret_ls->parsed()) kind = CommandKind::kSecretLs;
  else if (c_secret_rm->parsed()) kind = CommandKind::kSecretRm;
  else if (c_sup->parsed()) kind = CommandKind::kSupervise;
  else if (c_egress->parsed()) kind = CommandKind::kEgress;
  if (!kind) return fail("no command given", "see hull --help");

  if (split.command) {
    auto& cmd = *kind == CommandKind::kRun ? run.process.command : exec.process.command;
    if (!cmd.empty()) return fail("command given both before and after '--'", "put it after '--' only");
    cmd = *split.command;
  }
  if (*kind != CommandKind::kSupervise && *kind != CommandKind::kEgress) reap_dead_sandboxes();

  switch (*kind) {
    case CommandKind::kRun: return cmd_run(run);
    case CommandKind::kExec: return cmd_exec(exec);
    case CommandKind::kLs: return cmd_ls(json, all);
    case CommandKind::kInspect: return cmd_inspect(name, json);
    case CommandKind::kStop: return cmd_stop(name);
    case CommandKind::kRm: return cmd_rm(names, force);
    case CommandKind::kCp: return cmd_cp(src, dst);
    case CommandKind::kLogs:
      if (network_log) return cmd_logs_network(name, follow, json);
      return cmd_logs(name, follow,
                      !service_log.empty() ? LogKind::kService
                      : console_log        ? LogKind::kConsole
                      : sup_log            ? LogKind::kSupervisor
                                           : LogKind::kMain,
                      service_log, raw_log);
    case CommandKind::kDoctor: return cmd_doctor(json);
    case CommandKind::kImagePrepare: return cmd_image_prepare(print_path);
    case CommandKind::kImageLs: return cmd_image_ls(json);
    case CommandKind::kImageInspect: return cmd_image_inspect(name, json);
    case CommandKind::kImageImport: return cmd_image_import(src, tag, json);
    case CommandKind::kImageRm: return cmd_image_rm(names);
    case CommandKind::kImageBuild: return cmd_image_build(build);
    case CommandKind::kImageGc: return cmd_image_gc();
    case CommandKind::kSecretSet: return cmd_secret_set(name, from_file);
    case CommandKind::kSecretLs: return cmd_secret_ls(json);
    case CommandKind::kSecretRm: return cmd_secret_rm(names);
    case CommandKind::kSupervise: return cmd_supervise(dir, ready_fd);
    case CommandKind::kEgress: return cmd_egress();
  }
  return kExitHullError;
}

}  // namespace hull::cli

int main(int argc, char** argv) { return hull::cli::main_impl(argc, argv); }
