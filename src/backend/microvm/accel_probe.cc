#include "backend/microvm/accel_probe.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "backend/microvm/console.h"
#include "base/digest.h"
#include "base/paths.h"
#include "base/sys.h"

namespace hull::backend::microvm {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kBootedMarker = "Kernel panic - not syncing: VFS: Unable to mount root fs";
constexpr size_t kProbeOutputMax = 256 * 1024;

// "path size mtime" of a file, so a rebuilt QEMU or kernel re-probes.
std::string file_identity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return path + " missing";
  return path + " " + std::to_string(st.st_size) + " " + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

std::string probe_key(const std::string& qemu, const std::string& kernel) {
  utsname u{};
  ::uname(&u);
  struct stat kvm {};
  std::string kvm_id = ::stat("/dev/kvm", &kvm) == 0 ? std::to_string(kvm.st_rdev) : "none";
  return sha256_hex(file_identity(qemu) + "\n" + file_identity(kernel) + "\n" + u.release + "\n" + kvm_id)
      .substr(0, 16);
}

// What QEMU said went wrong: its first line with "error" (QEMU's own
// message comes before any assertion it trips), else its last line;
// printable and bounded.
std::string telling_line(const std::string& out) {
  std::string_view last;
  size_t i = 0;
  while (i < out.size()) {
    size_t nl = out.find('\n', i);
    if (nl == std::string::npos) nl = out.size();
    std::string_view line(out.data() + i, nl - i);
    if (line.find("error") != std::string_view::npos) return printable(line);
    if (line.find_first_not_of("\r ") != std::string_view::npos) last = line;
    i = nl + 1;
  }
  return last.empty() ? "no output" : printable(last);
}

}  // namespace

AccelChoice probe_kvm(const std::string& qemu, const std::string& kernel) {
  AccelChoice tcg;
  if (::access("/dev/kvm", R_OK | W_OK) != 0) {
    tcg.reason = std::string("kvm: ") + (errno == ENOENT ? "no /dev/kvm" : "/dev/kvm not accessible") + " -> tcg";
    return tcg;
  }
  auto out_pipe = sys::pipe(O_CLOEXEC);
  auto devnull = sys::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (!out_pipe || !devnull) {
    tcg.reason = "kvm: /dev/kvm present, probe could not start (pipe) -> tcg";
    return tcg;
  }
  std::vector<std::string> store = {
      qemu, "-M", kMachine, "-accel", "kvm", "-cpu", "host",
      "-m", "128M", "-smp", "1", "-nodefaults", "-no-user-config", "-nographic", "-display", "none",
      "-no-reboot", "-sandbox", kQemuSandbox,
      "-kernel", kernel, "-append", "console=ttyS0 panic=-1 reboot=t rdinit=/none",
      "-chardev", "stdio,id=console", "-serial", "chardev:console"};
  std::vector<char*> argv;
  for (auto& s : store) argv.push_back(s.data());
  argv.push_back(nullptr);
  // The probe boots only hull's own kernel, but QEMU still runs unprivileged:
  // nobody, with /dev/kvm's group, no_new_privs.
  struct stat kvm {};
  const gid_t kvm_gid = ::stat("/dev/kvm", &kvm) == 0 ? kvm.st_gid : 0;
  const bool drop = ::geteuid() == 0;
  const auto started = Clock::now();
  pid_t pid = ::fork();
  if (pid < 0) {
    tcg.reason = "kvm: /dev/kvm present, probe could not start (fork) -> tcg";
    return tcg;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (drop) {
      gid_t groups[1] = {kvm_gid};
      if (::setgroups(1, groups) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
          ::setresuid(65534, 65534, 65534) != 0 || ::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        ::_exit(126);
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(126);
    ::dup2(devnull->get(), 0);
    ::dup2(out_pipe->second.get(), 1);
    ::dup2(out_pipe->second.get(), 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  out_pipe->second.reset();
  // Read console + QEMU's errors until the marker, EOF or the deadline.
  std::string out;
  bool booted = false, timed_out = false;
  const auto deadline = started + kKvmProbeTimeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{out_pipe->first.get(), POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(out_pipe->first.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() < kProbeOutputMax) out.append(buf, static_cast<size_t>(n));
    if (out.find(kBootedMarker) != std::string::npos) {
      booted = true;
      break;
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - started).count();
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  char took[32];
  std::snprintf(took, sizeof took, "%.2f s", secs);
  if (booted) return {Accel::kKvm, std::string("kvm: guest kernel booted under KVM in ") + took + " -> kvm"};
  if (timed_out) {
    tcg.reason = std::string("kvm: /dev/kvm present, guest probe timed out after ") + took + " -> tcg";
  } else {
    tcg.reason = "kvm: /dev/kvm present, guest probe failed (" + telling_line(out) + ") -> tcg";
  }
  return tcg;
}

AccelChoice choose_accel(const std::string& qemu, const std::string& kernel) {
  const std::string dir = paths::cache_dir() + "/accel";
  const std::string path = dir + "/" + probe_key(qemu, kernel) + ".json";
  if (auto text = sys::read_file(path, 64 * 1024)) {
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_object() && j["accel"].is_string() && j["reason"].is_string()) {
      return {j["accel"] == "kvm" ? Accel::kKvm : Accel::kTcg, j["reason"].get<std::string>()};
    }
  }
  AccelChoice c = probe_kvm(qemu, kernel);
  nlohmann::json j = {{"accel", c.accel == Accel::kKvm ? "kvm" : "tcg"}, {"reason", c.reason}};
  // A cache that cannot be written only costs a re-probe next time.
  if (sys::mkdir_p(dir, 0755)) (void)sys::write_file_atomic(path, j.dump() + "\n");
  return c;
}

}  // namespace hull::backend::microvm
