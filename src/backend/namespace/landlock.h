// Landlock for the namespace sandbox: one rule, "full access beneath the new
// root". That sounds like nothing, but it is the one thing mount namespaces
// do not give: a directory fd that leaked from the host across pivot_root
// (or any path reached through one) lies outside the new root's hierarchy, so
// every open, create or exec relative to it is denied.
#pragma once

namespace hull::backend::ns {

// Landlock ABI version of the running kernel; 0 when it has none (disabled,
// not compiled in, or not in the lsm= list).
int landlock_abi();

}  // namespace hull::backend::ns
