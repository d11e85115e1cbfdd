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
// And who QEMU runs as: when hull runs as root, a host uid of its own,
// leased for this sandbox (host_ids.h: owns no file, shared with no other
// sandbox or host account), inside a user namespace where that uid is the
// sandbox's user, with no capability anywhere (bounding set empty,
// SECBIT_NOROOT locked). The workspace reaches it through an idmapped mount
// that maps the workspace's owner to that uid (userns.h): what the guest
// creates there belongs to the owner on the host, and the guest sees the
// workspace as its own user's. When hull is not root, QEMU runs as hull's
// user, confined the same way otherwise.
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
  std::vector<std::string> read_only;   // kernel, initramfs (the root disk comes as an fd)
  std::string workspace;                // "" = none
  bool workspace_ro = false;
  bool kvm = false;
};

struct QemuIdentity {
  bool change = false;  // false: run as hull's own user
  uid_t host_id = 0;    // QEMU's uid and gid on the host (leased)
  uint32_t inside_uid = 0, inside_gid = 0;  // the same, as QEMU's namespace sees it
  UniqueFd userns;      // maps inside_uid/gid <-> host_id, and nothing else
  gid_t kvm_gid = 0;    // extra group for /dev/kvm when KVM is used (0 = none)
  std::string report;   // "uid 1073807360 (leased), the sandbox user 0 in its own user namespace, no capabilities"
};
// `host_id`: the leased id (ignored when hull is not root); `user_*`: the
// sandbox user, what the workspace's owner looks like to the guest.
Result<QemuIdentity> make_qemu_identity(const QemuFiles& files, uint32_t host_id, uint32_t user_uid,
                                        uint32_t user_gid);
// In the forked child, after everything that needs host root: groups, the
// user namespace, no capabilities, gid, uid, and PDEATHSIG re-armed (a uid
// change clears it). Async-signal-safe. Returns 0 or an errno.
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
