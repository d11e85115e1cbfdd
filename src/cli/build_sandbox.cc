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

// `hull run --rm` of the job in the builder image, on `backend`.
Result<int> run_in_builder(const image::SandboxedRun& job, backend::BackendKind backend) {
  // setpriv: the sandbox's CLI dies with this build (a killed `hull run
  // --rm` takes its sandbox with it), so a killed build leaves no sandbox.
  Command c("setpriv");
  c.args({"--pdeathsig", "KILL", "--", paths::self_exe_dir() + "/hull", "run", "--rm", "--backend",
          backend::backend_name(backend), "--rootfs", job.rootfs, "--workspace", job.readonly_dir, "--workspace-ro",
          "--memory", kBuilderMemory, "--disk", kBuilderDisk, "--timeout", kBuilderTimeout});
  if (backend == backend::BackendKind::kNamespace) {
    // Root of the sandbox must own, chmod, chroot and mount as dpkg and
    // mmdebstrap do: the profile that allows it only in its own user
    // namespace (backend.h), and only for this read-only-input job.
    c.arg("--weaken-for-package-install");
    // The chroot mmdebstrap assembles goes on the --disk sized writable
    // layer, not the sandbox's 1 GiB /tmp.
    c.arg("--env").arg("TMPDIR=/var/tmp");
  }
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
  if (want == "none")
    return make_error("HULL_BUILD_SANDBOX=none is gone",
                      "package scripts never run as host root; use namespace (fast) or microvm (a kernel of its own)");
  if (want != "auto" && want != "microvm" && want != "namespace")
    return make_error("HULL_BUILD_SANDBOX=" + want, "use auto, microvm or namespace");
  using image::SandboxRunner;
  const SandboxRunner in_namespace{
      "namespace", [](const image::SandboxedRun& job) { return run_in_builder(job, backend::BackendKind::kNamespace); }};
  if (want == "namespace") return std::optional<SandboxRunner>(in_namespace);
  // Quiet: the builder names the isolation it got in its own progress
  // line, and only when it really installs something.
  Status ready = backend::check_microvm_ready();
  Result<backend::TierChoice> tier = ready ? backend::microvm_tier() : Result<backend::TierChoice>(ready.error());
  if (!tier) {
    if (want == "microvm") return tier.error();
    return std::optional<SandboxRunner>(in_namespace);
  }
  return std::optional<SandboxRunner>(SandboxRunner{
      backend::tier_name(tier->tier), [](const image::SandboxedRun& job) { return run_in_builder(job, backend::BackendKind::kMicrovm); }});
}

}  // namespace hull::cli
