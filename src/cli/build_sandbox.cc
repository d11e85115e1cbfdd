#include "cli/build_sandbox.h"

#include <fcntl.h>

#include <cstdlib>

#include "backend/backend.h"
#include "base/command.h"
#include "base/paths.h"
#include "base/sys.h"

namespace hull::cli {

namespace {

// The builder VM: mmdebstrap unpacks into its tmpfs before writing the tar.
constexpr const char* kBuilderMemory = "3g";
constexpr const char* kBuilderDisk = "6g";
constexpr const char* kBuilderTimeout = "45m";

Result<int> run_in_builder_vm(const image::SandboxedRun& job) {
  // setpriv: the sandbox's CLI dies with this build (a killed `hull run
  // --rm` takes its sandbox with it), so a killed build leaves no VM.
  Command c("setpriv");
  c.args({"--pdeathsig", "KILL", "--", paths::self_exe_dir() + "/hull", "run", "--rm", "--backend", "microvm", "--rootfs", job.rootfs, "--workspace", job.readonly_dir,
          "--workspace-ro", "--memory", kBuilderMemory, "--disk", kBuilderDisk, "--timeout", kBuilderTimeout});
  for (const auto& e : job.env) c.arg("--env").arg(e);
  c.arg("--").args(job.argv);
  HULL_ASSIGN(UniqueFd log, sys::open(job.log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  c.stdout_to_file(job.stdout_path, job.stdout_max).stream_stderr_to(log.get()).allow_failure();
  HULL_ASSIGN(CommandOutput out, c.run());
  return out.exit_code;
}

}  // namespace

Result<std::optional<image::SandboxRunner>> builder_sandbox() {
  const char* env = std::getenv("HULL_BUILD_SANDBOX");
  const std::string want = env != nullptr && *env != '\0' ? env : "auto";
  if (want != "auto" && want != "microvm" && want != "none")
    return make_error("HULL_BUILD_SANDBOX=" + want, "use auto, microvm or none");
  std::optional<image::SandboxRunner> none;
  if (want == "none") return none;
  // Quiet: the builder names the isolation it got (or the host chroot) in
  // its own progress line, and only when it really installs something.
  Status ready = backend::check_microvm_ready();
  if (!ready) {
    if (want == "microvm") return ready.error();
    return none;
  }
  auto tier = backend::microvm_tier();
  if (!tier) {
    if (want == "microvm") return tier.error();
    return none;
  }
  return std::optional<image::SandboxRunner>(image::SandboxRunner{backend::tier_name(tier->tier), run_in_builder_vm});
}

}  // namespace hull::cli
