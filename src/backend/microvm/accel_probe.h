// Which accelerator a microVM gets: KVM only when our own guest kernel has
// actually booted under it on this host, else TCG (QEMU's emulator).
//
// Why a boot and not just /dev/kvm: some hosts expose a /dev/kvm that only
// runs para-virtualised guests (these CI machines: QEMU aborts at once
// setting an MSR), and others may hang. The probe boots the guest kernel
// with no init reachable ("rdinit=/none"), so a kernel that came up all the
// way panics with "VFS: Unable to mount root fs" — that line on the console
// within kKvmProbeTimeout is the proof. Anything else (QEMU error, silence,
// an earlier panic) means TCG, and the reason says which.
//
// The answer is cached under paths::cache_dir()/accel/, keyed by the QEMU
// binary, the guest kernel, the host kernel release and /dev/kvm itself, so
// it costs one boot per change, not one per sandbox.
//
//   auto a = choose_accel(qemu, kernel);   // never fails: worst case TCG
//   a.accel == Accel::kKvm / kTcg, a.reason for doctor, inspect and stderr
#pragma once

#include <chrono>
#include <string>

#include "backend/microvm/qemu_command.h"

namespace hull::backend::microvm {

inline constexpr std::chrono::seconds kKvmProbeTimeout{5};

struct AccelChoice {
  Accel accel = Accel::kTcg;
  // e.g. "kvm: /dev/kvm present, guest probe failed (qemu: failed to set
  // MSR 0x10a to 0x69) -> tcg" or "kvm: guest booted in 0.21 s -> kvm".
  std::string reason;
};

AccelChoice choose_accel(const std::string& qemu, const std::string& kernel);

// The probe itself, uncached (for tests and `hull doctor --reprobe` later).
AccelChoice probe_kvm(const std::string& qemu, const std::string& kernel);

}  // namespace hull::backend::microvm
