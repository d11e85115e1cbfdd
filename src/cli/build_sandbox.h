// The sandbox a Debian image build runs package code in, started the way
// `hull run` starts one (this CLI runs itself: `hull run --rm --backend B
// --rootfs <builder> --workspace <repo> --workspace-ro`), so the build goes
// through the same supervisor, limits and records as any sandbox: a
// microVM, or a namespace sandbox under the package-install profile (its
// root may chown, chroot and mount in its own user namespace; backend.h).
// Never a chroot as host root.
#pragma once

#include <optional>

#include "image/debian_builder.h"

namespace hull::cli {

// HULL_BUILD_SANDBOX: "auto" (default: a microVM when usable, else a
// namespace sandbox), "microvm" (an Error when it is not usable),
// "namespace" (faster where the microVM is TCG-emulated: ~25 s against
// 3-5 min for a small image here). The image records which ran the scripts.
Result<std::optional<image::SandboxRunner>> builder_sandbox();

}  // namespace hull::cli
