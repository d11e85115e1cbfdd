#include "policy/sandbox_layout.h"

#include <sys/mount.h>

#include <cstdio>

namespace hull::policy {

namespace {

using K = MountKind;
constexpr unsigned long kNoSuidDevExec = MS_NOSUID | MS_NODEV | MS_NOEXEC;

// clang-format off
constexpr MountEntry kMounts[] = {
  {K::kProc,         "/proc", nullptr, nullptr, kNoSuidDevExec, "ps/top see only the sandbox's own processes"},
  {K::kMaskWithNull, "/proc/kcore", nullptr, nullptr, 0, "physical memory image of the host"},
  {K::kMaskWithNull, "/proc/sysrq-trigger", nullptr, nullptr, 0, "host-wide magic SysRq actions"},
  {K::kMaskWithNull, "/proc/timer_list", nullptr, nullptr, 0, "leaks host timers and kernel pointers"},
  {K::kMaskWithNull, "/proc/keys", nullptr, nullptr, 0, "lists kernel keys of the host uid"},
  {K::kReadOnlyBind, "/proc/sys", nullptr, nullptr, 0, "sysctls are read-only inside"},
  {K::kReadOnlyBind, "/proc/irq", nullptr, nullptr, 0, "host interrupt affinity"},
  {K::kReadOnlyBind, "/proc/bus", nullptr, nullptr, 0, "host PCI/USB config space"},
  {K::kTmpfs,        "/dev", nullptr, "mode=0755,size=65536,nr_inodes=256", MS_NOSUID | MS_NOEXEC, "minimal /dev: only the nodes listed below"},
  {K::kHostDevice,   "/dev/null", "/dev/null", nullptr, 0, "standard device"},
  {K::kHostDevice,   "/dev/zero", "/dev/zero", nullptr, 0, "standard device"},
  {K::kHostDevice,   "/dev/full", "/dev/full", nullptr, 0, "standard device"},
  {K::kHostDevice,   "/dev/random", "/dev/random", nullptr, 0, "standard device"},
  {K::kHostDevice,   "/dev/urandom", "/dev/urandom", nullptr, 0, "standard device"},
  {K::kHostDevice,   "/dev/tty", "/dev/tty", nullptr, 0, "controlling terminal of sandbox PTYs"},
  {K::kDevpts,       "/dev/pts", nullptr, "newinstance,ptmxmode=0666,mode=0620,gid=5", MS_NOSUID | MS_NOEXEC, "private PTYs; no host terminal is visible"},
  {K::kSymlink,      "/dev/ptmx", "pts/ptmx", nullptr, 0, "PTY multiplexer of the private devpts"},
  {K::kTmpfs,        "/dev/shm", nullptr, "mode=1777,size=268435456", kNoSuidDevExec, "POSIX shared memory, size-capped"},
  {K::kSymlink,      "/dev/fd", "/proc/self/fd", nullptr, 0, "standard link"},
  {K::kSymlink,      "/dev/stdin", "/proc/self/fd/0", nullptr, 0, "standard link"},
  {K::kSymlink,      "/dev/stdout", "/proc/self/fd/1", nullptr, 0, "standard link"},
  {K::kSymlink,      "/dev/stderr", "/proc/self/fd/2", nullptr, 0, "standard link"},
  {K::kTmpfs,        "/tmp", nullptr, "mode=1777,size=1073741824", MS_NOSUID | MS_NODEV, "fresh, size-capped /tmp per sandbox"},
};
// clang-format on

const char* kind_name(MountKind k) {
  switch (k) {
    case K::kProc: return "proc";
    case K::kTmpfs: return "tmpfs";
    case K::kDevpts: return "devpts";
    case K::kHostDevice: return "device";
    case K::kSymlink: return "symlink";
    case K::kMaskWithNull: return "mask";
    case K::kReadOnlyBind: return "ro-bind";
  }
  return "?";
}

}  // namespace

std::span<const MountEntry> sandbox_mounts() { return kMounts; }

std::string render_sandbox_mounts() {
  std::string out;
  for (const auto& m : kMounts) {
    char line[512];
    std::snprintf(line, sizeof line, "%-8s %-20s %-16s %-44s # %s\n", kind_name(m.kind), m.target,
                  m.source != nullptr ? m.source : "-", m.data != nullptr ? m.data : "-",
                  m.reason);
    out += line;
  }
  return out;
}

}  // namespace hull::policy
