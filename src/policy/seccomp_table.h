// The seccomp policy of the namespace backend, as data: one table, each entry a
// syscall, what happens to it, an optional argument condition and a one-line
// reason. The backend compiles it (libseccomp) and installs it as the last step
// before exec of hull-agent; everything inside the sandbox inherits it.
//
// Shape: default ALLOW, then the entries below deny. A deny list, not an allow
// list, because the sandbox runs arbitrary Linux userland (compilers, package
// managers, language runtimes); the boundary is namespaces + no capabilities +
// landlock, and this table closes the kernel surfaces that are reachable even
// without capabilities or that a userns would otherwise open up.
//
// Architectures: only the native one is allowed; any syscall made through
// another ABI (i386 int 0x80, x32 numbers) kills the process (kBadArchAction).
//
// Changing this table changes tests/unit/golden/seccomp_policy.txt; run the
// unit tests with HULL_UPDATE_GOLDEN=1 and review the diff.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace hull::policy {

enum class SeccompAction {
  kErrno,        // fail with `err`, process continues (the usual choice)
  kKillProcess,  // only for things that indicate an exploit attempt
};

// Optional condition on one syscall argument: (arg[index] & mask) == value.
// mask == 0 means "no condition" (the entry matches every call).
struct SeccompArgMatch {
  unsigned index = 0;
  uint64_t mask = 0;
  uint64_t value = 0;
  // Instead of the masked compare: arg[index] != value (mask ignored).
  bool not_equal = false;
};

struct SeccompEntry {
  const char* syscall;  // name as libseccomp knows it
  SeccompAction action;
  int err;              // errno for kErrno
  SeccompArgMatch arg;  // condition; mask == 0 and !not_equal: unconditional
  const char* reason;   // one line: why the sandbox must not have it
};

// The table, in the order it is written in seccomp_table.cc.
std::span<const SeccompEntry> seccomp_table();
// The set-id rows: no setuid/setgid file can be made. Part of the namespace
// policy, and installed on QEMU for a microVM (its 9p workspace writes).
std::span<const SeccompEntry> setid_seccomp_table();

// Human-readable text of the whole policy, one entry per line; used by the
// golden test and by `hull inspect`.
std::string render_seccomp_table();

// The package-install profile: a loudly named weakening for image builds
// only (a Debian build's package scripts, in a namespace sandbox whose only
// host input is read-only and whose only output is a tar the host checks as
// hostile). It takes these syscalls out of seccomp_table(), each for what
// mmdebstrap's root mode does to assemble the chroot it installs into, and
// leaves out setid_seccomp_table() (packages ship setuid files).
struct SeccompAllowance {
  const char* syscall;
  const char* reason;
};
std::span<const SeccompAllowance> package_install_allowances();
bool package_install_allows(const char* syscall);

// Namespace flags refused for clone(2) (one table entry per flag).
uint64_t seccomp_refused_clone_flags();

}  // namespace hull::policy
