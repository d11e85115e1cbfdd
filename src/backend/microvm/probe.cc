// probe_microvm_backend(): what `hull doctor` shows for the microvm tier.
#include <fcntl.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/microvm/accel_probe.h"
#include "backend/microvm/guest_artifacts.h"
#include "base/command.h"
#include "base/sys.h"

namespace hull::backend {

std::vector<Probe> probe_microvm_backend() {
  std::vector<Probe> out;
  auto program = [&](const char* name, const char* package) {
    std::string path = find_program(name);
    out.push_back({name, !path.empty(),
                   path.empty() ? std::string("not found (apt-get install ") + package + ")" : path});
  };
  program("qemu-system-x86_64", "qemu-system-x86");
  auto kernel = microvm::find_guest_kernel();
  if (kernel) {
    std::string release = microvm::guest_kernel_release(*kernel);
    out.push_back({"guest-kernel", true, *kernel + (release.empty() ? "" : " (" + release + ")")});
  } else {
    out.push_back({"guest-kernel", false, kernel.error().detail});
  }
  program("cpio", "cpio");
  program("mkfs.ext4", "e2fsprogs");
  // Honest about acceleration: /dev/kvm alone does not prove that our guest
  // boots under it (here it only runs para-virtualised guests); the probe
  // boots it (accel_probe.h).
  if (auto t = microvm_tier()) {
    out.push_back({"accel", true, t->reason});
  } else {
    out.push_back({"accel", false, "not probed: " + t.error().message()});
  }
  return out;
}

Result<TierChoice> microvm_tier() {
  std::string qemu = find_program("qemu-system-x86_64");
  if (qemu.empty()) return make_error("microvm backend", "qemu-system-x86_64 not found");
  HULL_ASSIGN(std::string kernel, microvm::find_guest_kernel());
  auto a = microvm::choose_accel(qemu, kernel);
  return TierChoice{a.accel == microvm::Accel::kKvm ? Tier::kMicrovmKvm : Tier::kMicrovmTcg, a.reason};
}

Status check_microvm_ready() {
  if (find_program("qemu-system-x86_64").empty())
    return make_error("microvm backend", "qemu-system-x86_64 not found; apt-get install qemu-system-x86");
  if (auto k = microvm::find_guest_kernel(); !k) return k.error();
  return ok_status();
}

}  // namespace hull::backend
