// Test harness for the supervisor: runs run_supervisor() in a forked child
// with its own HULL_HOME (independent of the CLI), reads its ready line,
// waits for it with deadlines (poll on fds, never sleeps), and gives tests a
// wire client for its control socket.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>

#include "backend/backend.h"
#include "base/sys.h"
#include "base/temp_dir.h"
#include "supervisor/sandbox_record.h"
#include "supervisor/supervisor.h"
#include "wire/channel.h"

namespace hull::supervisor::testing {

inline std::string test_rootfs() {
  const char* e = std::getenv("HULL_TEST_ROOTFS");
  return e != nullptr && *e != '\0' ? e : "/tmp/mmtest/rootfs";
}

// Skip (with the reason printed) when the host cannot run a sandbox.
#define HULL_REQUIRE_ROOTFS()                                                            \
  do {                                                                                   \
    if (!::hull::sys::exists(::hull::supervisor::testing::test_rootfs() + "/bin/sh")) {  \
      GTEST_SKIP() << "no test rootfs at " << ::hull::supervisor::testing::test_rootfs() \
                   << " (set HULL_TEST_ROOTFS)";                                         \
    }                                                                                    \
    if (const char* b = std::getenv("HULL_BACKEND"); b != nullptr && std::string(b) == "microvm") { \
      if (auto ready = ::hull::backend::check_microvm_ready(); !ready)                   \
        GTEST_SKIP() << "microvm backend not usable: " << ready.error().message();      \
    }                                                                                    \
  } while (0)

inline std::string read_text(const std::string& path) {
  auto r = sys::read_file(path);
  return r ? *r : std::string();
}

// Whether pid is a live (non-zombie) process.
inline bool process_running(pid_t pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) < 0 && errno == ESRCH) return false;
  std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] != 'Z';
}

// SIGKILL a process that is not our child and wait (poll on a pidfd, at
// most `timeout_ms`) until it has exited: kill() only queues the signal, and
// a process with a large address space takes a while to tear down. True once
// it is gone.
inline bool kill_and_wait_gone(pid_t pid, int timeout_ms = 30000) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return errno == ESRCH;
  bool gone = false;
  if (::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0) == 0) {
    pollfd p{pidfd, POLLIN, 0};
    gone = ::poll(&p, 1, timeout_ms) == 1;
  }
  ::close(pidfd);
  return gone;
}

// Peak resident set of a live process, in KiB (VmHWM).
inline long peak_rss_kib(pid_t pid) {
  std::string s = read_text("/proc/" + std::to_string(pid) + "/status");
  auto p = s.find("VmHWM:");
  return p == std::string::npos ? -1 : std::strtol(s.c_str() + p + 6, nullptr, 10);
}

class SupervisorProcess {
 public:
  // agent: path of the program the backend runs as PID 1 (HULL_AGENT).
  SupervisorProcess(SandboxSpec spec, std::string agent)
      : home_(std::move(TempDir::create("/tmp", "hull-sup-").value())),
        workspace_(std::move(TempDir::create("/tmp", "hull-ws-").value())),
        spec_(std::move(spec)),
        agent_(std::move(agent)) {
    if (spec_.name.empty()) spec_.name = "t" + std::to_string(::getpid());
    spec_.rootfs = spec_.rootfs.empty() ? test_rootfs() : spec_.rootfs;
    // The "microvm:" copies of these tests run against the microvm backend.
    if (const char* b = std::getenv("HULL_BACKEND"); b != nullptr && std::string(b) == "microvm")
      spec_.backend = backend::BackendKind::kMicrovm;
    spec_.workspace = workspace_.path();
    spec_.created_at = now_rfc3339();
    dir_ = home_.path() + "/state/sandboxes/" + spec_.name;
  }
  ~SupervisorProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  const std::string& dir() const { return dir_; }
  // Its HULL_HOME: set it to reach this sandbox with the `hull` CLI.
  const std::string& home() const { return home_.path(); }
  const std::string& name() const { return spec_.name; }
  const std::string& workspace() const { return workspace_.path(); }
  pid_t pid() const { return pid_; }
  std::string socket_path() const { return home_.path() + "/run/" + spec_.name + ".sock"; }

  void write_workspace_file(const std::string& name, const std::string& content) {
    ASSERT_TRUE(sys::write_file_atomic(workspace() + "/" + name, content).ok());
  }

  // Forks the supervisor and returns its ready line ("ok" / "error: ...").
  std::string start(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    EXPECT_TRUE(sys::mkdir_p(dir_, 0700).ok());
    EXPECT_TRUE(write_spec(dir_, spec_).ok());
    auto p = sys::pipe(O_CLOEXEC);
    EXPECT_TRUE(p.ok());
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // test crashed: shut down cleanly
      p->first.reset();
      ::setenv("HULL_HOME", home_.path().c_str(), 1);
      ::setenv("HULL_AGENT", agent_.c_str(), 1);
      ::_exit(run_supervisor(dir_, std::move(p->second)));
    }
    p->second.reset();
    pidfd_ = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd pfd{p->first.get(), POLLIN, 0};
      if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
        ADD_FAILURE() << "supervisor not ready within " << timeout.count() << " s";
        break;
      }
      char buf[512];
      ssize_t n = ::read(p->first.get(), buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    while (!line.empty() && line.back() == '\n') line.pop_back();
    return line;
  }

  // Waits for the supervisor to exit; returns its exit code (or -1).
  int wait_exit(std::chrono::seconds timeout = std::chrono::seconds(30)) {
    pollfd pfd{pidfd_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count() * 1000)) <= 0) {
      ADD_FAILURE() << "supervisor did not exit within " << timeout.count() << " s";
      return -1;
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  void terminate() { ::kill(pid_, SIGTERM); }

  SandboxState state() const {
    auto s = read_state(dir_);
    EXPECT_TRUE(s.ok()) << (s ? "" : s.error().message());
    return s ? *s : SandboxState{};
  }

  // After exit: nothing of the sandbox may still run, the socket is gone.
  void expect_nothing_left() const {
    SandboxState st = state();
    EXPECT_FALSE(process_running(st.boundary_pid)) << "boundary pid " << st.boundary_pid;
    EXPECT_FALSE(sys::exists(socket_path())) << socket_path();
  }

 private:
  TempDir home_;
  TempDir workspace_;
  SandboxSpec spec_;
  std::string agent_;
  std::string dir_;
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  bool exited_ = false;
};

inline UniqueFd connect_unix(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return UniqueFd();
  return fd;
}

inline std::string evil_agent() { return std::string(HULL_TEST_BIN_DIR) + "/evil_agent"; }

}  // namespace hull::supervisor::testing
