// The QEMU command line of one microVM, as a pure function of its inputs, so
// that what the wall is made of can be read (and unit-tested) in one place.
//
// Shape: `qemu-system-x86_64 -M microvm` with no firmware, no PCI/ACPI (the
// virtio-mmio devices are announced on the kernel command line), no network
// device at all, QEMU's own seccomp (-sandbox on), and exactly these devices:
//   virtio-blk   the image rootfs as an ext4 disk, read-only
//   virtio-9p    the workspace (only if there is one), ro when asked
//   virtio-serial one port, "hull.channel": the agent channel, on an fd the
//                supervisor already holds (a connected socketpair end)
//   isa-serial   the guest console, on a socket the supervisor reads into a
//                size-capped log file (no file size limit on QEMU itself:
//                that would cap the guest's workspace writes too)
// The guest's /init is hull-agent (in the initramfs); it reads hull.* from
// the kernel command line (see src/agent/vm_init.h for that contract).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hull::backend::microvm {

enum class Accel { kKvm, kTcg };

// The machine and QEMU's own seccomp, shared by every VM hull starts (the
// sandboxes and the KVM probe): the probe must test the machine we run.
inline constexpr const char* kMachine = "microvm,x-option-roms=off,isa-serial=on,rtc=on,acpi=off";
inline constexpr const char* kQemuSandbox =
    "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny";

struct VmConfig {
  std::string qemu = "qemu-system-x86_64";
  Accel accel = Accel::kTcg;
  unsigned cpus = 1;
  uint64_t memory_bytes = 1ull << 30;
  std::string kernel;          // vmlinux (PVH ELF) or bzImage
  std::string initramfs;       // cpio with hull-agent as /init
  std::string root_disk;       // ext4 image of the rootfs (opened read-only)...
  int root_disk_fd = -1;       // ...or, when >= 0, that file already open read-only on
                               // this inherited fd (the disk cache is closed to QEMU's user)
  std::string workspace;       // host dir; empty = none
  bool workspace_ro = false;
  std::string hostname;        // sandbox name
  uint64_t overlay_bytes = 1ull << 30;  // guest tmpfs for the writable layer
  uint32_t pids_max = 0;       // 0 = no limit inside the guest
  int channel_fd = 3;          // inherited, connected stream socket
  std::string console_log;     // file for the guest console...
  int console_fd = -1;         // ...or, when >= 0, an inherited connected socket the
                               // supervisor drains into a capped log
  std::string cmdline_extra;   // appended to the kernel command line (debugging)
  // TCG's translated-code cache (MiB). QEMU 7.2 reserves up to 1 GiB by
  // default; capped so many parallel sandboxes stay within host memory.
  uint32_t tcg_cache_mib = 256;
};

// Host memory QEMU may use for this VM: guest RAM + code cache + QEMU itself.
// The host cgroup of the QEMU process is sized by it.
uint64_t host_memory_budget(const VmConfig& c);

// Kernel command line (also used by the bench's bare-boot peer).
std::string kernel_cmdline(const VmConfig& c);
// Whole argv, argv[0] = c.qemu.
std::vector<std::string> qemu_argv(const VmConfig& c);

}  // namespace hull::backend::microvm
