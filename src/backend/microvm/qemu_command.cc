#include "backend/microvm/qemu_command.h"

#include <algorithm>

namespace hull::backend::microvm {

namespace {

// QEMU splits option values on ',' and reads ",," as a literal comma.
std::string esc(const std::string& v) {
  std::string out;
  for (char ch : v) {
    out += ch;
    if (ch == ',') out += ',';
  }
  return out;
}

}  // namespace

std::string kernel_cmdline(const VmConfig& c) {
  // console on the ISA serial; panic=-1 + reboot=t + QEMU's -no-reboot turn a
  // guest panic into a QEMU exit the supervisor sees at once.
  std::string s = "console=ttyS0 quiet panic=-1 reboot=t";
  s += " hull.root=/dev/vda hull.rootfstype=ext4";
  s += " hull.hostname=" + c.hostname;
  s += " hull.overlay_size=" + std::to_string(c.overlay_bytes);
  s += " hull.channel=hull.channel";
  if (!c.workspace.empty()) {
    s += " hull.workspace=workspace";
    if (c.workspace_ro) s += " hull.workspace_ro=1";
  }
  if (c.pids_max != 0) s += " hull.pids_max=" + std::to_string(c.pids_max);
  if (!c.cmdline_extra.empty()) s += " " + c.cmdline_extra;
  return s;
}

uint64_t host_memory_budget(const VmConfig& c) {
  constexpr uint64_t kQemuOverhead = 256ull << 20;  // devices, threads, 9p buffers
  const uint64_t guest = std::max<uint64_t>(c.memory_bytes, 128ull << 20);
  const uint64_t cache = c.accel == Accel::kTcg ? uint64_t{c.tcg_cache_mib} << 20 : 0;
  return guest + cache + kQemuOverhead;
}

std::vector<std::string> qemu_argv(const VmConfig& c) {
  const uint64_t mib = std::max<uint64_t>(c.memory_bytes >> 20, 128);
  std::vector<std::string> a = {
      c.qemu,
      // microvm: no PCI, no ACPI; virtio-mmio devices are passed to the kernel
      // on its command line. No option ROMs: nothing of SeaBIOS' menus.
      "-M", kMachine,
      "-accel", c.accel == Accel::kKvm ? "kvm" : "tcg,tb-size=" + std::to_string(c.tcg_cache_mib),
      "-cpu", c.accel == Accel::kKvm ? "host" : "max",
      "-smp", std::to_string(std::max(1u, c.cpus)),
      "-m", std::to_string(mib) + "M",
      "-nodefaults", "-no-user-config", "-nographic", "-display", "none",
      "-no-reboot",
      // QEMU's own seccomp: no exec, no setuid, no new privileges, no
      // scheduler/affinity games, no obsolete syscalls.
      "-sandbox", kQemuSandbox,
      "-kernel", c.kernel,
      "-initrd", c.initramfs,
      "-append", kernel_cmdline(c),
  };
  if (c.console_fd >= 0) {
    a.insert(a.end(), {"-chardev", "socket,id=console,fd=" + std::to_string(c.console_fd)});
  } else {
    a.insert(a.end(), {"-chardev", "file,id=console,path=" + esc(c.console_log)});
  }
  std::string disk = esc(c.root_disk);
  if (c.root_disk_fd >= 0) {
    // QEMU opens "/dev/fdset/N" paths from the fds given with -add-fd.
    a.insert(a.end(), {"-add-fd", "fd=" + std::to_string(c.root_disk_fd) + ",set=2"});
    disk = "/dev/fdset/2";
  }
  a.insert(a.end(), {
      "-serial", "chardev:console",
      // The rootfs: read-only at the block layer, not just mounted ro.
      "-drive", "id=root,file=" + disk + ",format=raw,if=none,readonly=on",
      "-device", "virtio-blk-device,drive=root",
      "-chardev", "socket,id=channel,fd=" + std::to_string(c.channel_fd),
      "-device", "virtio-serial-device,max_ports=2",
      "-device", "virtserialport,chardev=channel,name=hull.channel",
      "-device", "virtio-rng-device",
  });
  if (!c.workspace.empty()) {
    std::string fsdev = "local,id=workspace,path=" + esc(c.workspace) + ",security_model=none";
    if (c.workspace_ro) fsdev += ",readonly=on";
    a.insert(a.end(), {"-fsdev", fsdev, "-device", "virtio-9p-device,fsdev=workspace,mount_tag=workspace"});
  }
  return a;
}

}  // namespace hull::backend::microvm
