// Compiles policy::seccomp_table() (+ the set-id rows) into a classic-BPF program with libseccomp,
// in the parent, so that the child only has to hand the ready program to the
// kernel (libseccomp allocates; the child must not).
#pragma once

#include <linux/filter.h>

#include <cstddef>
#include <vector>

#include "base/result.h"

namespace hull::backend::ns {

struct SeccompProgram {
  std::vector<sock_filter> insns;
  size_t rules = 0;  // table entries compiled
};
Result<SeccompProgram> compile_seccomp_policy();
// The package-install profile (policy::package_install_allowances()).
Result<SeccompProgram> compile_package_install_policy();
// Only policy::setid_seccomp_table(): for QEMU, on top of its own -sandbox.
Result<SeccompProgram> compile_setid_policy();

// Installs `prog` on the calling thread (needs no_new_privs or CAP_SYS_ADMIN).
// Allocation-free: safe between fork and exec. Returns 0 or errno.
int install_seccomp_program(const SeccompProgram& prog);

}  // namespace hull::backend::ns
