#include "cli/sandbox_launch.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <cstdio>

#include "base/log.h"
#include "base/paths.h"
#include "base/sys.h"

namespace hull::cli {

namespace {

// How long the supervisor may take to boot the backend and hear "ready"
// from the agent. Generous: a cold page cache on a loaded CI host is slow.
constexpr int kReadyFd = 3;  // fd number of the ready pipe in the supervisor
constexpr auto kReadyTimeout = std::chrono::seconds(120);

// Everything between fork and exec: no allocation, only async-signal-safe
// calls; a failure is written to the ready pipe like a supervisor error.
[[noreturn]] void exec_supervisor(char* const argv[], int ready_fd, int devnull) {
  static const char kExecFailed[] = "error: cannot exec the hull binary for the supervisor\n";
  if (::setsid() < 0) _exit(1);
  pid_t pid = ::fork();
  if (pid < 0) _exit(1);
  if (pid > 0) _exit(0);  // the intermediate child; the grandchild is reparented
  ::dup2(devnull, 0);
  ::dup2(devnull, 1);
  ::dup2(devnull, 2);
  // The supervisor gets exactly stdio + the ready pipe as fd 3: any other fd
  // we inherited (a test harness's pipe, a terminal) must not be kept alive
  // for the sandbox's whole life.
  if (ready_fd != kReadyFd) ::dup2(ready_fd, kReadyFd);
  int flags = ::fcntl(kReadyFd, F_GETFD);
  if (flags >= 0) ::fcntl(kReadyFd, F_SETFD, flags & ~FD_CLOEXEC);
  ::syscall(SYS_close_range, kReadyFd + 1, ~0U, 0);
  ::execv("/proc/self/exe", argv);
  ssize_t ignored = ::write(kReadyFd, kExecFailed, sizeof(kExecFailed) - 1);
  (void)ignored;
  _exit(127);
}

// Reads the ready pipe to EOF (bounded size and time).
Result<std::string> read_ready(int fd) {
  std::string msg;
  auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return make_error("the supervisor did not report ready within 120 s", "see hull logs --supervisor");
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return sys_error("poll ready pipe");
    if (rc == 0) continue;
    char buf[512];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read ready pipe");
    if (n == 0) return msg;
    if (msg.size() < 4096) msg.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

std::string generate_sandbox_name() {
  unsigned char b[3] = {};
  if (::getrandom(b, sizeof b, 0) != sizeof b) {
    auto t = static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count());
    b[0] = t & 0xff, b[1] = (t >> 8) & 0xff, b[2] = (t >> 16) & 0xff;
  }
  char out[16];
  std::snprintf(out, sizeof out, "hull-%02x%02x%02x", b[0], b[1], b[2]);
  return out;
}

Result<std::string> create_sandbox(const supervisor::SandboxSpec& spec) {
  HULL_TRY(sys::mkdir_p(paths::sandboxes_dir(), 0700));
  std::string dir = paths::sandbox_dir(spec.name);
  if (::mkdir(dir.c_str(), 0700) < 0) {
    if (errno == EEXIST)
      return make_error("sandbox name '" + spec.name + "' is already in use (hull rm " + spec.name +
                        ", or pick --name)");
    return sys_error("create sandbox directory " + dir);
  }
  if (auto st = supervisor::write_spec(dir, spec); !st) {
    (void)sys::remove_all(dir);
    return st.error();
  }
  return dir;
}

Status start_supervisor(const std::string& dir) {
  std::string name = std::filesystem::path(dir).filename().string();

  HULL_ASSIGN(auto ready, sys::pipe(O_CLOEXEC));
  HULL_ASSIGN(UniqueFd devnull, sys::open("/dev/null", O_RDWR | O_CLOEXEC));
  // Build argv before forking: the child must not allocate.
  std::string fd_arg = std::to_string(kReadyFd);
  std::string a0 = "hull", a1 = "__supervise", a3 = "--ready-fd";
  std::string a2 = dir;
  char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data(), fd_arg.data(), nullptr};

  pid_t child = ::fork();
  if (child < 0) return sys_error("fork supervisor");
  if (child == 0) exec_supervisor(argv, ready.second.get(), devnull.get());
  ready.second.reset();  // so EOF arrives when the supervisor closes its end
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return make_error("start the supervisor", "setsid/fork failed in the launcher");

  HULL_ASSIGN(std::string msg, read_ready(ready.first.get()));
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r')) msg.pop_back();
  if (msg == "ok") return ok_status();
  if (msg.rfind("error: ", 0) == 0) return make_error(msg.substr(7));
  if (msg.empty())
    return make_error("the supervisor exited without reporting ready",
                      "see hull logs --supervisor " + name);
  return make_error("the supervisor reported '" + msg + "'", "see hull logs --supervisor " + name);
}

}  // namespace hull::cli
