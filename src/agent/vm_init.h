// VM init mode: hull-agent as /init of a microVM guest (PID 1, started by the
// kernel from an initramfs that holds nothing but /init).
//
// It turns the bare initramfs into the sandbox: the image rootfs (read-only
// block device) under a tmpfs overlay, the workspace over 9p, a fresh /tmp,
// /proc, /sys, /dev; switches root into it; sets the hostname, brings up lo,
// finds the virtio-serial channel, and then the agent serves that device
// exactly as `hull-agent --device PATH`.
//
// Usage (main.cc):
//   1. if (is_vm_init(argc, argv)):
//   2.   auto device = vm_init();      — Error: vm_shutdown(error), never returns
//   3.   serve `*device` like --device; when the agent returns:
//   4.   vm_shutdown(...)              — PID 1 must never simply exit (panic)
//
// Contract with the host (src/backend/microvm), on the kernel command line.
// Every hull.* key must be one of these; a duplicate, an unknown hull.* key, a
// missing required one or a bad value stops the boot with a console line:
//   hull.root=/dev/vda          required; block device with the image rootfs (mounted ro)
//   hull.rootfstype=ext4        ext4 (default) | erofs | squashfs
//   hull.overlay_size=<bytes>   tmpfs for the writable upper layer; default 1 GiB
//   hull.workspace=<9p tag>     mounted at /workspace; absent = no workspace
//   hull.workspace_ro=0|1       workspace read-only; default 0
//   hull.hostname=<name>        default "hull"
//   hull.channel=<port name>    virtio-serial port of the agent channel; default "hull.channel"
//   hull.pids_max=<n>           cgroup pids.max over the agent and all it spawns; 0/absent = none
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace hull::agent {

struct VmConfig {
  std::string root_device;  // hull.root
  std::string root_fstype = "ext4";
  uint64_t overlay_bytes = 1ull << 30;
  std::string workspace_tag;  // empty = no workspace
  bool workspace_ro = false;
  std::string hostname = "hull";
  std::string channel = "hull.channel";
  uint64_t pids_max = 0;  // 0 = no limit
};

// PID 1 and either no arguments or argv[0] ending in "init".
bool is_vm_init(int argc, char** argv);

// Pure: the contents of /proc/cmdline → VmConfig. Non-hull words are ignored.
Result<VmConfig> parse_vm_cmdline(std::string_view cmdline);

// Every step above, in order; returns the channel device ("/dev/vport0p1").
Result<std::string> vm_init();

// Ends the VM: "hull-agent: <why>; shutting the VM down" on the console, sync,
// reset. The host must run QEMU with -no-reboot (the reset ends QEMU) and
// should pass reboot=t (reset by triple fault, without probing ACPI/i8042).
[[noreturn]] void vm_shutdown(const std::string& why);

}  // namespace hull::agent
