// What a microVM boots besides the image: hull's guest kernel and an
// initramfs whose only file is hull-agent as /init.
//
// Kernel: $HULL_KERNEL, else paths::cache_dir()/kernels/current/vmlinux (PVH
// entry; bzImage if that is all there is),
// which `guest/kernel/build` (run by ./bootstrap) builds and links.
// Initramfs: built once per agent binary (keyed by its SHA-256) with cpio,
// cached under paths::cache_dir()/initramfs/.
#pragma once

#include <string>

#include "base/result.h"

namespace hull::backend::microvm {

// Path of the guest kernel image; an Error says how to build one.
Result<std::string> find_guest_kernel();
// Release string of that kernel (from kernel.release next to it), or "".
std::string guest_kernel_release(const std::string& kernel);
Result<std::string> ensure_initramfs(const std::string& agent_path);

}  // namespace hull::backend::microvm
