// `hull run`: validate flags → resolve the image → create the sandbox and
// start its supervisor → attach to the main command (or print the name for
// -d) → with --rm, wait for the supervisor to finish and remove the record.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "base/paths.h"
#include "base/sys.h"
#include "cli/build_sandbox.h"
#include "cli/client_session.h"
#include "cli/commands.h"
#include "cli/exec_client.h"
#include "cli/run_defaults.h"
#include "cli/sandbox_launch.h"
#include "cli/sandbox_ref.h"
#include "egress/egress_config.h"
#include "image/default_image.h"
#include "image/image_build.h"
#include "image/image_user.h"
#include "image/store.h"
#include "supervisor/sandbox_record.h"
#include "supervisor/supervisor.h"

namespace hull::cli {

namespace {

Status validate_env(const std::vector<std::string>& env) {
  for (const auto& kv : env)
    if (kv.find('=') == std::string::npos || kv.front() == '=')
      return make_error("bad --env '" + kv + "'", "use --env KEY=VALUE");
  return ok_status();
}

// "--image ./app", "--image .", "--image app/hull.toml": a path, not a tag
// (tags never hold '/' and never are "." or end in ".toml").
bool looks_like_spec_path(const std::string& ref) {
  return ref == "." || ref == ".." || ref.find('/') != std::string::npos || ref.ends_with(".toml");
}

// Flags → the spec the supervisor will run. Every user error is caught
// here, before anything is created on disk.
Result<supervisor::SandboxSpec> build_spec(const RunOptions& flags, std::optional<image::ImageRecord>* img) {
  supervisor::SandboxSpec spec;
  RunOptions o = flags;
  if (looks_like_spec_path(o.image)) {
    // A hull.toml: build it (or reuse the build of exactly these inputs),
    // and take its [sandbox] table as the defaults of this run.
    image::ImageStore store;
    HULL_ASSIGN(image::SpecLocation where, image::locate_spec(o.image));
    HULL_ASSIGN(image::WorkloadSpec file, image::load_workload_spec(where.spec_path));
    std::string decided;
    for (const auto& n : apply_sandbox_defaults(file.sandbox, where.project_dir, o))
      decided += (decided.empty() ? "" : ", ") + n;
    if (!decided.empty()) std::fprintf(stderr, "hull: from %s [sandbox]: %s\n", where.spec_path.c_str(), decided.c_str());
    image::BuildOptions bo;
    bo.progress_fd = 2;
    HULL_ASSIGN(bo.sandbox, builder_sandbox());
    HULL_ASSIGN(image::BuildOutcome built, image::build_image(where, bo, store));
    if (!built.cached) std::fprintf(stderr, "hull: built %s from %s\n", built.image.digest.c_str(), where.spec_path.c_str());
    *img = std::move(built.image);
  } else if (o.image != "default") {
    image::ImageStore store;
    auto rec = store.resolve(o.image);
    if (!rec) return rec.error();
    *img = std::move(*rec);
  }
  const bool image_has_cmd = img->has_value() && !(*img)->meta.config.cmd.empty();
  if (o.process.command.empty() && !image_has_cmd)
    return make_error("no command given", "usage: hull run [flags] -- CMD [ARGS...]");
  spec.name = o.name.empty() ? generate_sandbox_name() : o.name;
  if (!paths::valid_sandbox_name(spec.name))
    return make_error("invalid --name '" + spec.name + "'",
                      "use lowercase letters, digits, '-', '_', '.', starting with a letter or digit (max 63)");
  // Cheap early check so a taken name fails before the image is resolved;
  // the exclusive mkdir in create_sandbox() is still what decides.
  if (sys::exists(paths::sandbox_dir(spec.name)))
    return make_error("sandbox name '" + spec.name + "' is already in use (hull rm " + spec.name + ", or pick --name)");
  if (o.backend == "namespace") {
    spec.backend = backend::BackendKind::kNamespace;
  } else if (Status ready = backend::check_microvm_ready(); ready) {
    spec.backend = backend::BackendKind::kMicrovm;
  } else if (o.backend == "microvm") {
    return ready.error();
  } else {
    // auto: the stronger wall when this host has it, else say what you get.
    std::fprintf(stderr, "hull: backend auto: microvm not usable here (%s); using namespace (shares the host kernel)\n",
                 ready.error().message().c_str());
    spec.backend = backend::BackendKind::kNamespace;
  }
  spec.image = img->has_value() ? (*img)->digest : !o.rootfs.empty() ? "rootfs:" + o.rootfs : "default";
  if (!o.process.workdir.empty() && o.process.workdir.front() != '/')
    return make_error("bad -w '" + o.process.workdir + "'", "the working directory must be an absolute path inside the sandbox");
  if (!o.workspace.empty()) {
    struct stat st {};
    if (::stat(o.workspace.c_str(), &st) < 0)
      return sys_error("workspace " + o.workspace, errno, "create it first or fix the path");
    if (!S_ISDIR(st.st_mode)) return make_error("workspace " + o.workspace + " is not a directory", "pass a directory");
    std::error_code ec;
    spec.workspace = std::filesystem::canonical(o.workspace, ec).string();
    if (ec) return sys_error("resolve workspace " + o.workspace, ec.value());
  } else if (o.workspace_ro) {
    return make_error("--workspace-ro needs --workspace DIR");
  }
  spec.workspace_ro = o.workspace_ro;
  spec.weaken_for_package_install = o.weaken_for_package_install;
  if (spec.weaken_for_package_install && !spec.workspace.empty() && !spec.workspace_ro)
    return make_error("--weaken-for-package-install needs --workspace-ro",
                      "the profile is for image builds, whose input is read-only");
  HULL_TRY(validate_env(o.process.env));
  // The image's config first, the flags after it (later entries win).
  if (img->has_value())
    for (const auto& [k, v] : (*img)->meta.config.env) spec.env.push_back(k + "=" + v);
  spec.env.insert(spec.env.end(), o.process.env.begin(), o.process.env.end());
  spec.command = !o.process.command.empty() ? o.process.command : (*img)->meta.config.cmd;
  const std::string image_workdir = img->has_value() ? (*img)->meta.config.workdir : "/";
  spec.workdir = !o.process.workdir.empty() ? o.process.workdir
                 : image_workdir != "/"     ? image_workdir
                 : spec.workspace.empty()   ? "/"
                                            : "/workspace";
  if (img->has_value()) {
    spec.services = (*img)->meta.config.services;
    spec.healthcheck = (*img)->meta.config.health;
  }
  if (!o.network.empty() && o.network != "none") {
    spec.network.enabled = true;
    spec.network.preset = o.network;
  } else if (!o.allow.empty() || !o.deny.empty()) {
    return make_error("--allow/--deny need a network", "add --network locked (only what you allow), balanced or open");
  }
  spec.network.allow = o.allow;
  spec.network.deny = o.deny;
  if (spec.network.enabled) HULL_TRY(egress::check_rules(spec.network.preset, o.allow, o.deny));
  spec.tty = o.process.tty;
  spec.detach = o.detach;
  spec.remove_on_exit = o.remove;
  if (o.cpus < 0) return make_error("bad --cpus", "must be a positive number like 1 or 1.5");
  spec.limits.cpus = o.cpus;
  spec.limits.pids = o.pids;
  if (!o.memory.empty()) {
    HULL_ASSIGN(spec.limits.memory_bytes, parse_size(o.memory));
  }
  if (!o.disk.empty()) {
    HULL_ASSIGN(spec.limits.disk_bytes, parse_size(o.disk));
    if (spec.limits.disk_bytes < (16ull << 20))
      return make_error("bad --disk " + o.disk, "the writable layer needs at least 16m");
  }
  if (!o.timeout.empty()) {
    HULL_ASSIGN(spec.timeout_ms, parse_duration_ms(o.timeout));
  }
  return spec;
}

wire::ExecRequest main_request(const supervisor::SandboxSpec& spec) {
  wire::ExecRequest r;
  r.argv = spec.command;
  // The supervisor fills the image's default environment; we only add what
  // the user asked for and, for a PTY, the terminal type they are using.
  if (spec.tty) {
    const char* term = std::getenv("TERM");
    r.env.push_back(std::string("TERM=") + (term != nullptr && *term != '\0' ? term : "xterm"));
  }
  r.env.insert(r.env.end(), spec.env.begin(), spec.env.end());
  r.cwd = spec.workdir;
  r.uid = spec.uid;
  r.gid = spec.gid;
  r.tty = spec.tty;
  r.timeout_ms = spec.timeout_ms;
  return r;
}

// --rm: the supervisor tears the sandbox down after the main command; we
// wait for it to be gone, then remove the record.
void remove_after_exit(const std::string& name) {
  auto sb = find_sandbox(name);
  if (!sb) return;
  if (auto st = wait_supervisor_exit(*sb, std::chrono::seconds(30)); !st) {
    fail(st.error());
    return;
  }
  if (auto st = remove_sandbox_record(*sb); !st) fail(st.error().message(), "then hull rm " + name);
}

}  // namespace

int cmd_run(const RunOptions& o) {
  // The supervisor would refuse it too, but only after the image is ready.
  if (auto rt = paths::prepare_runtime_dir(); !rt) return fail(rt.error());
  std::optional<image::ImageRecord> img;
  auto spec = build_spec(o, &img);
  if (!spec) return fail(spec.error());
  if (img) {
    // The tree must still be what its name says (nothing edited it on disk).
    if (auto v = image::ImageStore().verify(*img); !v) return fail(v.error());
    spec->rootfs = img->rootfs();
  } else if (!o.rootfs.empty()) {
    spec->rootfs = o.rootfs;
  } else {
    auto rootfs = image::ensure_default_rootfs(2);
    if (!rootfs) return fail("prepare the default image: " + rootfs.error().message(), "see hull doctor");
    spec->rootfs = *rootfs;
  }
  // Who runs it: --user, else the image's user, looked up in the image.
  spec->user = !o.user.empty() ? o.user : img ? img->meta.config.user : "root";
  auto who = image::resolve_image_user(spec->rootfs, spec->user);
  if (!who) return fail(who.error());
  spec->uid = who->uid;
  spec->gid = who->gid;
  spec->home = who->home;
  spec->created_at = supervisor::now_rfc3339();

  if (spec->backend == backend::BackendKind::kMicrovm) {
    // Honest about the tier: TCG is the same separate-kernel wall, slower CPU.
    if (auto t = backend::microvm_tier(); t && t->tier == backend::Tier::kMicrovmTcg)
      std::fprintf(stderr, "hull: tier microvm-tcg: QEMU emulates the CPU (%s)\n", t->reason.c_str());
  }
  auto dir = create_sandbox(*spec);
  if (!dir) return fail(dir.error());
  if (auto st = start_supervisor(*dir); !st) {
    int code = fail(st.error());
    if (spec->backend == backend::BackendKind::kMicrovm) print_console_tail(*dir);
    if (o.remove) remove_after_exit(spec->name);
    return code;
  }
  if (o.detach) {
    std::printf("%s\n", spec->name.c_str());
    return 0;
  }

  auto state = supervisor::read_state(*dir);
  if (!state) return fail("read the state of sandbox '" + spec->name + "': " + state.error().message());
  AttachOptions attach{main_request(*spec), o.process.interactive, o.process.tty};
  int code = run_session(state->socket, "run",
                         [&](wire::Channel& ch) { return attach_exec(ch, attach); });
  if (spec->backend == backend::BackendKind::kMicrovm) {
    auto after = supervisor::observed_state(*dir);
    if (after && after->status == supervisor::SandboxStatus::kFailed) print_console_tail(*dir);
  }
  if (o.remove) remove_after_exit(spec->name);
  return code;
}

}  // namespace hull::cli
