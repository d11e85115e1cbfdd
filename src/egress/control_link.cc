#include "egress/control_link.h"

#include <sys/socket.h>

#include <cstring>
#include <vector>

namespace hull::egress {

Status send_link_message(int socket, const std::string& json, int fd_to_pass) {
  if (json.size() > kMaxLinkMessage)
    return make_error("egress link", "message of " + std::to_string(json.size()) + " bytes is over the limit");
  iovec iov{const_cast<char*>(json.data()), json.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd_to_pass >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd_to_pass, sizeof(int));
  }
  for (;;) {
    ssize_t n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
    if (n >= 0) return ok_status();
    if (errno != EINTR) return sys_error("send to the egress link");
  }
}

Result<LinkMessage> receive_link_message(int socket) {
  std::vector<char> buf(kMaxLinkMessage + 1);
  iovec iov{buf.data(), buf.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  // Room for a few fds, so that a peer sending too many has them delivered
  // (and closed here) rather than silently truncated into our table.
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 8)] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("receive from the egress link");
  LinkMessage out;
  std::vector<UniqueFd> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      fds.emplace_back(fd);
    }
  }
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0)
    return make_error("egress link", "message truncated (over " + std::to_string(kMaxLinkMessage) + " bytes)");
  if (fds.size() > 1) return make_error("egress link", "more than one fd in a message");
  if (!fds.empty()) out.fd = std::move(fds[0]);
  out.json.assign(buf.data(), static_cast<size_t>(n));
  return out;
}

}  // namespace hull::egress
