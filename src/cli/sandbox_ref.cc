#include "cli/sandbox_ref.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "base/log.h"
#include "base/paths.h"
#include "base/private_dir.h"
#include "base/sys.h"
#include "supervisor/supervisor.h"

namespace hull::cli {

namespace fs = std::filesystem;
using supervisor::SandboxStatus;

bool is_final(SandboxStatus s) {
  switch (s) {
    case SandboxStatus::kCreating:
    case SandboxStatus::kBooting:
    case SandboxStatus::kRunning:
    case SandboxStatus::kStopping:
      return false;
    case SandboxStatus::kExited:
    case SandboxStatus::kFailed:
      return true;
  }
  return true;
}

std::vector<std::string> sandbox_names() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(paths::sandboxes_dir(), ec)) {
    std::string n = e.path().filename().string();
    if (e.is_directory(ec) && paths::valid_sandbox_name(n)) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void reap_dead_sandboxes() {
  for (const auto& n : sandbox_names()) {
    std::string dir = paths::sandbox_dir(n);
    // A directory without state.json is being created right now by another
    // CLI (its supervisor has not started yet): not ours to judge.
    if (!sys::exists(supervisor::state_path(dir))) continue;
    auto st = supervisor::reap_if_dead(dir);
    if (!st) log::warn("reap {}: {}", n, st.error().message());
  }
}

Result<SandboxRef> find_sandbox(const std::string& name) {
  if (!paths::valid_sandbox_name(name))
    return make_error("invalid sandbox name '" + name + "'", "names are [a-z0-9][a-z0-9_.-]*, at most 63 characters");
  SandboxRef ref;
  ref.name = name;
  ref.dir = paths::sandbox_dir(name);
  if (!sys::exists(ref.dir)) return make_error("no sandbox named '" + name + "'", "see hull ls -a");
  auto spec = supervisor::read_spec(ref.dir);
  if (!spec) return make_error("sandbox '" + name + "' has no readable spec", spec.error().message());
  ref.spec = std::move(*spec);
  if (sys::exists(supervisor::state_path(ref.dir))) {
    auto state = supervisor::observed_state(ref.dir);
    if (!state) return make_error("sandbox '" + name + "' has no readable state", state.error().message());
    ref.state = std::move(*state);
  }
  return ref;
}

Result<UniqueFd> connect_control(const std::string& socket_path) {
  if (socket_path.empty()) return make_error("connect to supervisor", "the sandbox has no control socket");
  const fs::path p(socket_path);
  // In a directory another user can change (or made), the socket could be
  // theirs. Once it passed, nobody else can swap what the path names.
  auto dir_fd = open_private_dir(p.parent_path().string(), Missing::kRefuse);
  if (!dir_fd)
    return make_error("refusing the control socket " + socket_path + ": " + dir_fd.error().message(),
                      "run sandboxes with XDG_RUNTIME_DIR (or HULL_HOME) set to a directory only you can write");
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string target = socket_path;
  // sun_path holds 107 bytes; deep HULL_HOMEs (tests) exceed it, so name the
  // socket relative to the fd of its directory instead.
  if (target.size() >= sizeof(addr.sun_path)) {
    target = "/proc/self/fd/" + std::to_string(dir_fd->get()) + "/" + p.filename().string();
    if (target.size() >= sizeof(addr.sun_path)) return make_error("connect " + socket_path, "socket name too long");
  }
  std::memcpy(addr.sun_path, target.c_str(), target.size() + 1);
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return sys_error("connect " + socket_path, errno, "is the sandbox still running? see hull ls");
  // Before a single byte (a cp upload, exec -i stdin): a supervisor runs as
  // the user who started its sandbox, so a peer of any other uid — root
  // included — is posing as one. SO_PEERCRED is the kernel's word for it.
  HULL_ASSIGN(struct ::ucred peer, sys::peer_credentials(fd.get()));
  if (peer.uid != ::geteuid())
    return make_error("refusing the control socket " + socket_path + ": it is served by uid " +
                          std::to_string(peer.uid) + " (pid " + std::to_string(peer.pid) + "), not by you (uid " +
                          std::to_string(::geteuid()) + ")",
                      "nothing was sent; another user may be posing as the sandbox's supervisor — remove the socket "
                      "and check who can write its directory");
  return fd;
}

Status wait_supervisor_exit(const SandboxRef& sb, std::chrono::milliseconds timeout) {
  pid_t pid = sb.state.supervisor_pid;
  if (pid <= 0) return ok_status();
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) {
    if (errno == ESRCH) return ok_status();
    return sys_error("pidfd_open supervisor " + std::to_string(pid));
  }
  auto start = std::chrono::steady_clock::now();
  bool told = false;
  for (;;) {
    pollfd p{pidfd.get(), POLLIN, 0};
    int rc = ::poll(&p, 1, 100);
    if (rc > 0) return ok_status();
    if (rc < 0 && errno != EINTR) return sys_error("poll supervisor pidfd");
    // The pid may have been recycled if the supervisor died before we opened
    // the pidfd; observed_state notices "not ours" and reports it final.
    if (auto st = supervisor::observed_state(sb.dir); st && st->supervisor_pid != pid) return ok_status();
    auto elapsed = std::chrono::steady_clock::now() - start;
    if (!told && elapsed > std::chrono::seconds(1)) {
      std::fprintf(stderr, "hull: waiting for sandbox '%s' to stop...\n", sb.name.c_str());
      told = true;
    }
    if (elapsed > timeout)
      return make_error("sandbox '" + sb.name + "' did not stop in time",
                        "supervisor pid " + std::to_string(pid) + " is still alive; try hull rm -f " + sb.name);
  }
}

namespace {
// Mount points from /proc/self/mountinfo (field 5, octal-escaped).
std::vector<std::string> mount_points() {
  std::vector<std::string> out;
  auto text = sys::read_file("/proc/self/mountinfo");
  if (!text) return out;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t eol = text->find('\n', pos);
    if (eol == std::string::npos) eol = text->size();
    std::string line = text->substr(pos, eol - pos);
    pos = eol + 1;
    size_t f = 0, start = 0;
    for (size_t i = 0; i <= line.size() && f < 5; ++i) {
      if (i == line.size() || line[i] == ' ') {
        if (++f == 5) {
          std::string raw = line.substr(start, i - start), mp;
          for (size_t k = 0; k < raw.size(); ++k) {
            if (raw[k] == '\\' && k + 3 < raw.size()) {
              mp += static_cast<char>(std::stoi(raw.substr(k + 1, 3), nullptr, 8));
              k += 3;
            } else {
              mp += raw[k];
            }
          }
          out.push_back(mp);
        }
        start = i + 1;
      }
    }
  }
  return out;
}
}  // namespace

Status remove_sandbox_record(const SandboxRef& sb) {
  for (const auto& mp : mount_points())
    if (mp == sb.dir || mp.rfind(sb.dir + "/", 0) == 0)
      return make_error("remove sandbox '" + sb.name + "'", mp + " is still mounted; unmount it (umount -l) and retry");
  if (!sb.state.socket.empty()) ::unlink(sb.state.socket.c_str());
  return sys::remove_all(sb.dir);
}

}  // namespace hull::cli
