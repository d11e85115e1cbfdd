// Network of a namespace sandbox: a fresh, empty network namespace with only
// loopback up, where ports from 53 up need no privilege (the agent's stub
// resolver). Egress, when the policy allows it, goes through the agent's
// channel to the supervisor's proxy — never through an interface here.
#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "backend/namespace/child_setup.h"

namespace hull::backend::ns {

int bring_up_loopback() {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, "lo", 3);
  int e = 0;
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
    e = errno;
  } else {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) < 0) e = errno;
  }
  ::close(s);
  return e;
}

int allow_unprivileged_port_53() {
  // The agent's stub resolver must bind 127.0.0.1:53 with no capability
  // (the agent drops them like every process here). In this netns only:
  // it holds nothing but loopback, and the agent binds the port before any
  // other process of the sandbox runs. Written while the host's /proc is
  // still mounted (the sandbox's /proc/sys is read-only); a net sysctl
  // applies to the netns of whoever opens it: ours.
  int f = ::open("/proc/sys/net/ipv4/ip_unprivileged_port_start", O_WRONLY | O_CLOEXEC);
  if (f < 0) return errno;
  int e = ::write(f, "53", 2) == 2 ? 0 : errno;
  ::close(f);
  return e;
}

}  // namespace hull::backend::ns
