// The sandbox a Debian image build runs package code in: a microVM started
// the way `hull run` starts one (this CLI runs itself: `hull run --rm
// --backend microvm --rootfs <builder> --workspace <repo> --workspace-ro`),
// so the build goes through the same supervisor, limits and audit path as
// any sandbox. None where the microVM backend cannot run here (the
// namespace backend denies the chroot and ownership changes package
// installs need); the builder then says so and uses a host chroot.
#pragma once

#include <optional>

#include "image/debian_builder.h"

namespace hull::cli {

// HULL_BUILD_SANDBOX: "auto" (default: a microVM when usable, else the host
// chroot), "microvm" (an Error when it is not usable), "none" (host chroot;
// the image says so).
Result<std::optional<image::SandboxRunner>> builder_sandbox();

}  // namespace hull::cli
