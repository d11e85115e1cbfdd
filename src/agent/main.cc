// hull-agent: PID 1 inside every sandbox.
//
//   hull-agent --channel-fd N     serve the channel on an inherited stream socket
//   hull-agent --device PATH      ... or on a character device (virtio-serial)
//   /init (PID 1, no arguments)   microVM guest: build the root from the
//                                 kernel command line, then serve the
//                                 virtio-serial channel (see vm_init.h)
//
// Also works as an ordinary process (tests): then it becomes a child
// subreaper instead of init and skips the PID-1-only duties.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include "agent/agent.h"
#include "agent/vm_init.h"
#include "base/sys.h"

namespace {

using namespace hull;
using namespace hull::agent;

struct Args {
  int channel_fd = -1;
  std::string device;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "hull-agent: %s\nusage: hull-agent --channel-fd N | --device PATH\n", why);
  std::_Exit(2);
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--version") {
      std::printf("hull-agent %s\n", HULL_VERSION);
      std::_Exit(0);
    }
    if (i + 1 >= argc) usage("missing value after an option");
    std::string_view val = argv[++i];
    if (arg == "--channel-fd") {
      auto [p, ec] = std::from_chars(val.data(), val.data() + val.size(), a.channel_fd);
      if (ec != std::errc() || p != val.data() + val.size() || a.channel_fd < 0)
        usage("--channel-fd needs a file descriptor number");
    } else if (arg == "--device") {
      a.device = val;
    } else {
      usage("unknown option");
    }
  }
  if ((a.channel_fd < 0) == a.device.empty()) usage("give exactly one of --channel-fd and --device");
  return a;
}

// Pipes created later must not land on 0/1/2 (dup2 onto the same number would
// keep O_CLOEXEC and the child would lose its stdio), so fill any gaps.
void ensure_stdio() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0) continue;
    int n = ::open("/dev/null", O_RDWR);
    if (n >= 0 && n != fd) ::close(n);  // cannot happen: open returns the lowest free fd
  }
}

Result<UniqueFd> open_channel(const Args& a) {
  if (!a.device.empty()) return sys::open(a.device, O_RDWR | O_NOCTTY);
  if (::fcntl(a.channel_fd, F_GETFD) < 0) return sys_error("channel fd " + std::to_string(a.channel_fd));
  // Commands we spawn must never inherit the channel.
  HULL_TRY(sys::set_cloexec(a.channel_fd, true));
  return UniqueFd(a.channel_fd);
}

// How the process ends. In a VM, PID 1 exiting would panic the guest kernel,
// so the VM is shut down instead (the host sees the console line).
[[noreturn]] void finish(bool vm, int code, const std::string& why) {
  std::fflush(stderr);
  if (vm) vm_shutdown(why);
  ::_exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  const bool vm = is_vm_init(argc, argv);
  Args args;
  if (vm) {
    // An escaped exception must not kill PID 1 either.
    std::set_terminate([] { vm_shutdown("vm init: uncaught exception"); });
    auto device = vm_init();
    if (!device) vm_shutdown("vm init: " + device.error().message());
    args.device = *device;
  } else {
    args = parse_args(argc, argv);
  }
  ensure_stdio();
  // A child that closes its stdin must be an EPIPE for us, not our death.
  ::signal(SIGPIPE, SIG_IGN);

  const bool pid1 = ::getpid() == 1;
  std::vector<wire::Event> events;
  if (pid1) {
    // The backend mounts /proc before exec'ing us; if it did not (another
    // backend, a minimal rootfs), mounting it here is best effort.
    if (!sys::exists("/proc/self")) {
      if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0)
        events.push_back({"proc-mounted", "/proc was not mounted; the agent mounted it"});
      else
        events.push_back({"proc-missing", std::string("mount /proc: ") + std::strerror(errno)});
    }
  } else if (::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
    // Orphans then go to the real init; our own children are still reaped.
    log_line(std::string("PR_SET_CHILD_SUBREAPER: ") + std::strerror(errno));
  }

  auto fd = open_channel(args);
  if (!fd) {
    log_line(fd.error().message());
    finish(vm, 1, "cannot open the channel");
  }

  boost::asio::io_context io(1);
  Agent agent(io.get_executor(), std::move(*fd), pid1, std::move(events));
  int code = 1;
  boost::asio::co_spawn(io, agent.run(), [&](std::exception_ptr e, int c) {
    code = e ? 1 : c;
    io.stop();
  });
  for (;;) {
    try {
      io.run();
      break;
    } catch (const std::exception& e) {
      log_line(std::string("event loop: ") + e.what());  // keep serving
    }
  }
  // Exit without unwinding: detached coroutines still reference the agent,
  // and as PID 1 our exit tears the namespace down anyway.
  finish(vm, code, "agent exited with code " + std::to_string(code));
}
