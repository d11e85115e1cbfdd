// Network of a namespace sandbox: a fresh, empty network namespace with only
// loopback up. Egress, when the policy allows it, goes through the agent's
// channel to the supervisor's proxy — never through an interface here.
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

}  // namespace hull::backend::ns
