#include "agent/vm_init.h"

#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "agent/agent_state.h"
#include "base/sys.h"

namespace hull::agent {
namespace {

using namespace std::chrono_literals;

constexpr unsigned long kNoSuidDevExec = MS_NOSUID | MS_NODEV | MS_NOEXEC;
constexpr size_t kMaxCmdline = 4096;  // the kernel's own limit is 2048 on x86
constexpr size_t kMaxValue = 64;      // every hull.* value (HOST_NAME_MAX is 64)
constexpr uint64_t kMinOverlay = 16ull << 20;
constexpr uint64_t kMaxOverlay = 1ull << 40;
constexpr uint64_t kMaxPids = 4194304;  // PID_MAX_LIMIT
// Device nodes and virtio-serial ports appear asynchronously at boot: the host
// announces ports over the control queue only after the driver is up.
constexpr auto kDeviceWait = 5s;

// The new root is assembled here, inside the initramfs; after the switch
// these paths are no longer reachable from the guest.
constexpr const char* kLower = "/run/hull/lower";  // image rootfs, read-only
constexpr const char* kRw = "/run/hull/rw";        // tmpfs: upper/ and work/
constexpr const char* kRoot = "/run/hull/root";    // the overlay = the new /

// API filesystems mounted in the initramfs first (we need /proc/cmdline and
// /dev before anything else), then moved into the new root as a whole.
struct EarlyMount {
  const char* source;
  const char* target;
  const char* fstype;
  unsigned long flags;
  const char* data;
  const char* why;
};
// clang-format off
constexpr EarlyMount kEarlyMounts[] = {
  {"proc",     "/proc",    "proc",     kNoSuidDevExec, nullptr, "/proc/cmdline; ps, top"},
  {"sysfs",    "/sys",     "sysfs",    kNoSuidDevExec, nullptr, "/sys/class/virtio-ports finds the channel"},
  {"devtmpfs", "/dev",     "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755", "the kernel creates device nodes here"},
  {"devpts",   "/dev/pts", "devpts",   MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5", "PTYs for tty execs (gid 5 = tty, as on Debian)"},
  {"shm",      "/dev/shm", "tmpfs",    kNoSuidDevExec, "mode=1777,size=268435456", "POSIX shared memory, size-capped"},
};
// Links udev would make; the same set the namespace backend's /dev has.
struct DevLink {
  const char* path;
  const char* target;
};
constexpr DevLink kDevLinks[] = {
  {"/dev/ptmx",   "pts/ptmx"},  // only if devtmpfs has no ptmx node
  {"/dev/fd",     "/proc/self/fd"},
  {"/dev/stdin",  "/proc/self/fd/0"},
  {"/dev/stdout", "/proc/self/fd/1"},
  {"/dev/stderr", "/proc/self/fd/2"},
};
// clang-format on

Status mount_fs(const std::string& source, const std::string& target, const char* fstype,
                unsigned long flags, const std::string& data, const char* hint = "") {
  if (::mount(source.c_str(), target.c_str(), fstype, flags, data.empty() ? nullptr : data.c_str()) < 0)
    return sys_error("mount " + std::string(fstype) + " " + source + " on " + target, errno, hint);
  return ok_status();
}

// mkdir only if missing: sys::mkdir_p would chmod a directory the image has.
Status ensure_dir(const std::string& path) {
  return sys::exists(path) ? ok_status() : sys::mkdir_p(path, 0755);
}

Status write_control(const std::string& path, const std::string& value) {
  HULL_ASSIGN(UniqueFd fd, sys::open(path, O_WRONLY));
  Status s = sys::write_all(fd.get(), value);
  if (!s) return sys_error("write \"" + value + "\" to " + path, s.error().err);
  return ok_status();
}

// ---- the command line ------------------------------------------------------

// Words of a kernel command line; double quotes group ("a=\"b c\"" is one word).
std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t start = i;
    bool quoted = false;
    while (i < s.size() && (quoted || !std::isspace(static_cast<unsigned char>(s[i])))) {
      if (s[i] == '"') quoted = !quoted;
      ++i;
    }
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// Letters, digits and `extra`; nothing a shell, a path or a mount option
// string (',' '=') could misread.
bool plain(std::string_view v, std::string_view extra) {
  for (char c : v)
    if (!std::isalnum(static_cast<unsigned char>(c)) && extra.find(c) == std::string_view::npos) return false;
  return true;
}

Result<uint64_t> parse_number(std::string_view key, std::string_view v, uint64_t lo, uint64_t hi) {
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n < lo || n > hi)
    return make_error("kernel command line " + std::string(key),
                      "\"" + std::string(v) + "\" is not a number in " + std::to_string(lo) + "…" +
                          std::to_string(hi));
  return n;
}

Error bad_value(std::string_view key, std::string_view v, const char* want) {
  return make_error("kernel command line " + std::string(key), "\"" + std::string(v) + "\": " + want);
}

// One hull.* key. The set is closed: the host and this agent ship together, so
// an unknown key is a version mismatch or a typo, and both must stop the boot.
Status apply_key(VmConfig& c, std::string_view key, std::string_view v) {
  if (key == "hull.root") {
    if (v.rfind("/dev/", 0) != 0 || v.find("..") != std::string_view::npos || !plain(v, "/_-"))
      return bad_value(key, v, "want a block device path such as /dev/vda");
    c.root_device = v;
  } else if (key == "hull.rootfstype") {
    if (v != "ext4" && v != "erofs" && v != "squashfs") return bad_value(key, v, "want ext4, erofs or squashfs");
    c.root_fstype = v;
  } else if (key == "hull.overlay_size") {
    HULL_ASSIGN(c.overlay_bytes, parse_number(key, v, kMinOverlay, kMaxOverlay));
  } else if (key == "hull.workspace") {
    if (v.empty() || !plain(v, "._-")) return bad_value(key, v, "want a 9p mount tag ([A-Za-z0-9._-])");
    c.workspace_tag = v;
  } else if (key == "hull.workspace_ro") {
    if (v != "0" && v != "1") return bad_value(key, v, "want 0 or 1");
    c.workspace_ro = v == "1";
  } else if (key == "hull.hostname") {
    if (v.empty() || v.front() == '-' || v.front() == '.' || !plain(v, ".-"))
      return bad_value(key, v, "want a host name ([A-Za-z0-9.-], not starting with - or .)");
    c.hostname = v;
  } else if (key == "hull.channel") {
    if (v.empty() || !plain(v, "._-")) return bad_value(key, v, "want a virtio-serial port name ([A-Za-z0-9._-])");
    c.channel = v;
  } else if (key == "hull.pids_max") {
    HULL_ASSIGN(c.pids_max, parse_number(key, v, 0, kMaxPids));
  } else {
    return make_error("kernel command line " + std::string(key),
                      "unknown hull.* key (are the guest initramfs and hull the same version?)");
  }
  return ok_status();
}

// ---- building the new root -------------------------------------------------

Status mount_early() {
  for (const auto& m : kEarlyMounts) {
    HULL_TRY(ensure_dir(m.target));
    HULL_TRY(mount_fs(m.source, m.target, m.fstype, m.flags, m.data != nullptr ? m.data : ""));
  }
  for (const auto& l : kDevLinks) {
    if (sys::exists(l.path)) continue;
    if (::symlink(l.target, l.path) < 0) return sys_error(std::string("symlink ") + l.path);
  }
  return ok_status();
}

// The kernel opens /dev/console as fd 0/1/2 of init when the initramfs has
// that node; if it had none, give whatever is missing the console now, so
// that our errors are seen at all.
void fill_stdio_from_console() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0) continue;
    int n = ::open("/dev/console", O_RDWR | O_NOCTTY);
    if (n >= 0 && n != fd) ::close(n);  // open returns the lowest free fd: `fd`
  }
}

Status wait_for_path(const std::string& path, const char* what) {
  const auto deadline = std::chrono::steady_clock::now() + kDeviceWait;
  while (!sys::exists(path)) {
    if (std::chrono::steady_clock::now() >= deadline)
      return make_error("wait for " + path, std::string("no such device after 5 s; ") + what);
    std::this_thread::sleep_for(10ms);
  }
  return ok_status();
}

// Image (ro) + tmpfs upper = overlay at kRoot, then /workspace and /tmp on it.
Status build_root(const VmConfig& c) {
  for (const char* d : {kLower, kRw, kRoot}) HULL_TRY(sys::mkdir_p(d, 0755));
  HULL_TRY(wait_for_path(c.root_device, "is the root disk attached, and is hull.root its name?"));
  HULL_TRY(mount_fs(c.root_device, kLower, c.root_fstype.c_str(), MS_RDONLY | MS_NODEV, "",
                    "is hull.rootfstype the disk's filesystem?"));
  HULL_TRY(mount_fs("overlay-rw", kRw, "tmpfs", MS_NODEV,
                    "size=" + std::to_string(c.overlay_bytes) + ",mode=0755"));
  const std::string upper = std::string(kRw) + "/upper";
  const std::string work = std::string(kRw) + "/work";
  HULL_TRY(sys::mkdir_p(upper, 0755));
  HULL_TRY(sys::mkdir_p(work, 0755));
  HULL_TRY(mount_fs("overlay", kRoot, "overlay", 0,
                    std::string("lowerdir=") + kLower + ",upperdir=" + upper + ",workdir=" + work));

  const std::string root = kRoot;
  if (!c.workspace_tag.empty()) {
    HULL_TRY(ensure_dir(root + "/workspace"));
    HULL_TRY(mount_fs(c.workspace_tag, root + "/workspace", "9p",
                      MS_NODEV | (c.workspace_ro ? MS_RDONLY : 0),
                      "trans=virtio,version=9p2000.L,msize=262144,cache=none",
                      "is a virtio-9p device with this mount_tag attached?"));
  }
  HULL_TRY(ensure_dir(root + "/tmp"));
  HULL_TRY(mount_fs("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=1073741824"));
  return ok_status();
}

// The initramfs is rootfs, which cannot be pivot_root'ed away: move the new
// root over "/" and chroot into it (what util-linux switch_root does). The old
// content is just /init, whose pages stay in use while we run, so it is not
// worth deleting.
Status switch_root(const std::string& root) {
  for (const char* api : {"/proc", "/sys", "/dev"}) {
    const std::string target = root + api;
    HULL_TRY(ensure_dir(target));
    if (::mount(api, target.c_str(), nullptr, MS_MOVE, nullptr) < 0)
      return sys_error(std::string("move ") + api + " to " + target);
  }
  if (::chdir(root.c_str()) < 0) return sys_error("chdir " + root);
  if (::mount(root.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0) return sys_error("move " + root + " to /");
  if (::chroot(".") < 0) return sys_error("chroot " + root);
  if (::chdir("/") < 0) return sys_error("chdir / after chroot");
  return ok_status();
}

// ---- identity, network, limits, channel ------------------------------------

Status set_hostname(const std::string& name) {
  if (::sethostname(name.c_str(), name.size()) < 0) return sys_error("sethostname " + name);
  // Same files as the namespace backend writes; the overlay makes /etc
  // writable. Not fatal: the hostname itself is set.
  const std::string hosts =
      "127.0.0.1\tlocalhost\n127.0.1.1\t" + name + "\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  for (const auto& [path, text] : {std::pair<std::string, std::string>{"/etc/hostname", name + "\n"},
                                   std::pair<std::string, std::string>{"/etc/hosts", hosts}}) {
    if (auto s = sys::write_file_atomic(path, text); !s) log_line("vm init: " + s.error().message());
  }
  return ok_status();
}

// Bringing lo up is enough: the kernel adds 127.0.0.1/8 and ::1 itself.
Status loopback_up() {
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) return sys_error("socket AF_INET (for the lo interface)");
  struct ifreq ifr {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) < 0) return sys_error("SIOCGIFFLAGS lo");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) < 0) return sys_error("SIOCSIFFLAGS lo up");
  return ok_status();
}

// Puts the agent itself (PID 1) in a cgroup with pids.max: everything it
// spawns inherits it, and the agent counts as one, as in the namespace backend.
Status limit_pids(uint64_t max) {
  const std::string base = "/sys/fs/cgroup";
  const std::string pid = std::to_string(::getpid());
  std::string dir;
  if (::mount("cgroup2", base.c_str(), "cgroup2", kNoSuidDevExec, nullptr) == 0) {
    // The root cgroup may have processes and controllers at once (v2's
    // no-internal-process rule exempts it).
    HULL_TRY(write_control(base + "/cgroup.subtree_control", "+pids"));
    dir = base + "/hull";
  } else {
    const int v2_err = errno;
    Status v1 = mount_fs("cgroup", base, "tmpfs", kNoSuidDevExec, "mode=0755");
    if (v1) v1 = sys::mkdir_p(base + "/pids", 0755);
    if (v1) v1 = mount_fs("cgroup", base + "/pids", "cgroup", kNoSuidDevExec, "pids");
    if (!v1)
      return sys_error("mount cgroup2 on " + base, v2_err,
                       "and cgroup v1 failed too: " + v1.error().message() + "; drop hull.pids_max?");
    dir = base + "/pids/hull";
  }
  HULL_TRY(sys::mkdir_p(dir, 0755));
  HULL_TRY(write_control(dir + "/pids.max", std::to_string(max)));
  HULL_TRY(write_control(dir + "/cgroup.procs", pid));
  return ok_status();
}

// /sys/class/virtio-ports/vport0p1/name holds "hull.channel\n"; the device is /dev/vport0p1.
std::optional<std::string> channel_device(const std::string& port) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/sys/class/virtio-ports", ec)) {
    auto name = sys::read_file(e.path().string() + "/name", 256);
    if (!name) continue;
    std::string_view n = *name;
    while (!n.empty() && (n.back() == '\n' || n.back() == ' ')) n.remove_suffix(1);
    const std::string dev = "/dev/" + e.path().filename().string();
    if (n == port && sys::exists(dev)) return dev;
  }
  return std::nullopt;
}

Result<std::string> find_channel(const std::string& port) {
  const auto deadline = std::chrono::steady_clock::now() + kDeviceWait;
  for (;;) {
    if (auto dev = channel_device(port)) return *dev;
    if (std::chrono::steady_clock::now() >= deadline)
      return make_error("find virtio-serial port \"" + port + "\"",
                        "not in /sys/class/virtio-ports (or no /dev node) after 5 s; does the VM have "
                        "-device virtserialport,name=" + port + " and hull.channel set to it?");
    std::this_thread::sleep_for(10ms);
  }
}

}  // namespace

bool is_vm_init(int argc, char** argv) {
  if (::getpid() != 1) return false;
  if (argc <= 1) return true;
  std::string_view a0 = argv[0] != nullptr ? argv[0] : "";
  return a0.size() >= 4 && a0.substr(a0.size() - 4) == "init";
}

Result<VmConfig> parse_vm_cmdline(std::string_view cmdline) {
  if (cmdline.size() > kMaxCmdline) return make_error("kernel command line", "longer than 4096 bytes");
  VmConfig c;
  std::vector<std::string_view> seen;
  for (std::string_view w : split_words(cmdline)) {
    if (w.rfind("hull.", 0) != 0) continue;
    const size_t eq = w.find('=');
    std::string_view key = w.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : w.substr(eq + 1);
    if (eq == std::string_view::npos) return make_error("kernel command line " + std::string(w), "want key=value");
    if (value.size() > kMaxValue)
      return make_error("kernel command line " + std::string(key), "value longer than 64 bytes");
    for (auto s : seen)
      if (s == key) return make_error("kernel command line " + std::string(key), "given twice");
    seen.push_back(key);
    HULL_TRY(apply_key(c, key, value));
  }
  if (c.root_device.empty())
    return make_error("kernel command line hull.root", "missing; the host must pass hull.root=/dev/vdX");
  return c;
}

Result<std::string> vm_init() {
  HULL_TRY(mount_early());
  fill_stdio_from_console();
  HULL_ASSIGN(std::string cmdline, sys::read_file("/proc/cmdline", kMaxCmdline + 1));
  HULL_ASSIGN(VmConfig cfg, parse_vm_cmdline(cmdline));
  HULL_TRY(build_root(cfg));
  HULL_TRY(switch_root(kRoot));
  HULL_TRY(set_hostname(cfg.hostname));
  HULL_TRY(loopback_up());
  if (cfg.pids_max > 0) HULL_TRY(limit_pids(cfg.pids_max));
  return find_channel(cfg.channel);
}

void vm_shutdown(const std::string& why) {
  std::fprintf(stderr, "hull-agent: %s; shutting the VM down\n", why.c_str());
  std::fflush(stderr);
  ::sync();
  // A reset, not RB_POWER_OFF: the guest kernel has no ACPI, so "power off"
  // would only halt the CPU and leave QEMU running. QEMU's -no-reboot turns
  // the reset into its own exit; reboot=t makes the reset a triple fault at
  // once instead of trying the absent ACPI and keyboard controller first.
  ::reboot(RB_AUTOBOOT);
  // Not reached as PID 1; if it were, exiting would panic the guest, so wait.
  for (;;) ::pause();
}

}  // namespace hull::agent
