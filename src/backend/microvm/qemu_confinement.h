// What QEMU itself may touch on the host: exactly the files it is handed.
//
// QEMU parses guest-controlled device state; a bug there runs code as QEMU.
// Besides its own seccomp (-sandbox on), hull confines it with Landlock:
//   read+exec  /usr (QEMU, its libraries and firmware), /etc/ld.so.cache
//   read       the kernel, the initramfs, the root disk image
//   write      the console log (created beforehand), nothing else
//   read[/write] the workspace, beneath it only (9p), when there is one
//   read/write /dev/kvm (only with KVM), /dev/null, /dev/urandom
// No other path of the host can be opened, created, listed or executed.
//
//   auto rules = QemuConfinement::build(paths);   // before fork (allocates)
//   ...child: rules.apply();                      // after fork, before exec
//   rules.report()                                // "landlock abi 7: 7 paths"
#pragma once

#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace hull::backend::microvm {

struct QemuFiles {
  std::vector<std::string> read_only;   // kernel, initramfs, root disk
  std::vector<std::string> write_only;  // console log (must exist)
  std::string workspace;                // "" = none
  bool workspace_ro = false;
  bool kvm = false;
};

class QemuConfinement {
 public:
  // Builds the ruleset; when the kernel has no Landlock, an unconfined
  // object whose report() says so (hull doctor shows it too).
  static Result<QemuConfinement> build(const QemuFiles& files);
  // In the forked child: no_new_privs, then restrict. Async-signal-safe.
  // Returns 0 or an errno.
  int apply() const;
  const std::string& report() const { return report_; }

 private:
  UniqueFd ruleset_;
  std::string report_;
};

}  // namespace hull::backend::microvm
