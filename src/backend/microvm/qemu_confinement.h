// What QEMU itself may touch on the host: exactly the files it is handed.
//
// QEMU parses guest-controlled device state; a bug there runs code as QEMU.
// Besides its own seccomp (-sandbox on), hull confines it with Landlock:
//   read+exec  /usr (QEMU, its libraries and firmware), /etc/ld.so.cache
//   read       the kernel, the initramfs, the root disk image
//   write      nothing by path (its console and error logs are fds hull opened)
//   read[/write] the workspace, beneath it only (9p), when there is one
//   read/write /dev/kvm (only with KVM), /dev/null, /dev/urandom
// No other path of the host can be opened, created, listed or executed.
//
// And who QEMU runs as: when hull runs as root, QEMU does not. It runs as the
// workspace's owner (9p then reads and writes the workspace as that user,
// so files the guest creates there belong to them, not to root), or as
// "nobody" when there is no workspace; only a workspace owned by root keeps
// QEMU at uid 0 (still confined as above, and said so in the report).
//
//   auto rules = QemuConfinement::build(paths);   // before fork (allocates)
//   ...child: rules.apply();                      // after fork, before exec
//   rules.report()                                // "landlock abi 7: 7 paths"
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace hull::backend::microvm {

struct QemuFiles {
  std::vector<std::string> read_only;   // kernel, initramfs, root disk
  std::string workspace;                // "" = none
  bool workspace_ro = false;
  bool kvm = false;
};

struct QemuIdentity {
  bool change = false;  // false: run as hull's own user
  uid_t uid = 0;
  gid_t gid = 0;
  gid_t kvm_gid = 0;    // extra group for /dev/kvm when KVM is used (0 = none)
  std::string report;   // "uid 1000 (owner of the workspace)"
};
QemuIdentity choose_qemu_identity(const QemuFiles& files);
// In the forked child, after everything that needs root: groups, gid, uid,
// and PDEATHSIG re-armed (a uid change clears it). Returns 0 or an errno.
int apply_identity(const QemuIdentity& id, pid_t parent);

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
