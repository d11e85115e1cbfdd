// Host uid/gid ranges for sandboxes, leased, never shared.
//
// Each sandbox that needs host ids of its own (the namespace backend's user
// namespace, the uid a microVM's QEMU runs as) leases one slot:
//   base = kHostIdBase + kIdsPerSlot * slot,   slot in [0, kHostIdSlots)
// 2^30.. is far above any /etc/subuid range or real account, so no host user
// owns these ids. A slot is held by an exclusive flock on
// kHostIdLeaseDir/<slot> for as long as the HostIdLease lives (the
// supervisor holds it for the sandbox's whole life); the kernel drops the
// lock when the holder dies, so a crashed supervisor frees its slot.
//
// Why leased, not derived from the name: two sandboxes sharing host ids
// share every per-uid kernel account (RLIMIT_NPROC, inotify, mqueue, epoll
// limits) and any host object one of them could reach by uid. A hash of the
// name collides (1 in 16384 per pair); a lease cannot.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/fd.h"
#include "base/result.h"

namespace hull::backend::ns {

inline constexpr uint32_t kHostIdBase = 1u << 30;
inline constexpr uint32_t kIdsPerSlot = 65536;
inline constexpr uint32_t kHostIdSlots = 16384;
// Host-wide, not per HULL_HOME: two hull homes share one kernel's uids.
// On /run, so a reboot (which ends every sandbox) clears it.
inline constexpr const char* kHostIdLeaseDir = "/run/hull-ids";

class HostIdLease {
 public:
  HostIdLease() = default;
  uint32_t base() const { return base_; }
  uint32_t count() const { return kIdsPerSlot; }
  uint32_t slot() const { return slot_; }
  bool held() const { return lock_.valid(); }

  // Takes the first free slot from a random start. Needs root (the lease
  // directory is root's, 0700).
  static Result<HostIdLease> take(const std::string& dir = kHostIdLeaseDir);

 private:
  HostIdLease(uint32_t slot, UniqueFd lock)
      : base_(kHostIdBase + kIdsPerSlot * slot), slot_(slot), lock_(std::move(lock)) {}
  uint32_t base_ = 0;
  uint32_t slot_ = 0;
  UniqueFd lock_;
};

}  // namespace hull::backend::ns
