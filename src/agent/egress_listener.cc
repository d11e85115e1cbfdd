#include "agent/egress_listener.h"

#include <dirent.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "wire/socket_pump.h"

namespace hull::agent {
namespace {

constexpr auto kUse = asio::as_tuple(asio::use_awaitable);
// Looking a client up walks /proc/*/fd; past this many processes it is not
// worth holding the connection up for.
constexpr int kMaxProcessesScanned = 4096;

// The socket inode of the loopback connection from client_port to the proxy.
unsigned long client_socket_inode(uint16_t client_port) {
  std::ifstream f("/proc/net/tcp");
  std::string line;
  std::getline(f, line);  // header
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string slot, local, remote, st, queues, timer, retr, uid, timeout;
    unsigned long inode = 0;
    if (!(in >> slot >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >> inode))
      continue;
    auto port_of = [](const std::string& a) {
      auto c = a.find(':');
      return c == std::string::npos ? 0UL : std::strtoul(a.c_str() + c + 1, nullptr, 16);
    };
    if (port_of(local) == client_port && port_of(remote) == wire::kEgressProxyPort) return inode;
  }
  return 0;
}

}  // namespace

std::string describe_local_client(uint16_t client_port) {
  const std::string fallback = "port " + std::to_string(client_port);
  const unsigned long inode = client_socket_inode(client_port);
  if (inode == 0) return fallback;
  const std::string want = "socket:[" + std::to_string(inode) + "]";
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return fallback;
  std::string found;
  int scanned = 0;
  while (dirent* e = ::readdir(proc)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9' || ++scanned > kMaxProcessesScanned) continue;
    const std::string fd_dir = std::string("/proc/") + e->d_name + "/fd";
    DIR* fds = ::opendir(fd_dir.c_str());
    if (fds == nullptr) continue;
    while (dirent* fe = ::readdir(fds)) {
      char target[64];
      const std::string link = fd_dir + "/" + fe->d_name;
      ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
      if (n > 0 && std::string(target, static_cast<size_t>(n)) == want) {
        found = e->d_name;
        break;
      }
    }
    ::closedir(fds);
    if (!found.empty()) break;
  }
  ::closedir(proc);
  if (found.empty()) return fallback;
  std::ifstream comm("/proc/" + found + "/comm");
  std::string name;
  std::getline(comm, name);
  return "pid " + found + (name.empty() ? "" : " " + name.substr(0, 64));
}

void EgressListener::park(std::shared_ptr<wire::Stream> stream) {
  if (closed_) {
    stream->reset("the egress listener is closed");
    return;
  }
  if (!acceptor_) {
    asio::ip::tcp::acceptor a(state_.ex);
    boost::system::error_code ec;
    const asio::ip::tcp::endpoint at(asio::ip::address_v4::loopback(), wire::kEgressProxyPort);
    a.open(at.protocol(), ec);
    if (!ec) a.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec) a.bind(at, ec);
    if (!ec) a.listen(1024, ec);
    if (ec) {
      log_line("egress: cannot listen on 127.0.0.1:" + std::to_string(wire::kEgressProxyPort) +
               ": " + ec.message());
      stream->reset("cannot listen on 127.0.0.1:3128: " + ec.message());
      return;
    }
    acceptor_.emplace(std::move(a));
    asio::co_spawn(state_.ex, accept_loop(), asio::detached);
  }
  parked_.push_back(std::move(stream));
  parked_changed_.notify();
}

void EgressListener::close() {
  closed_ = true;
  boost::system::error_code ec;
  if (acceptor_) acceptor_->close(ec);
  for (auto& s : parked_) s->reset("agent shutting down");
  parked_.clear();
  parked_changed_.notify();
}

asio::awaitable<void> EgressListener::accept_loop() {
  while (!closed_) {
    if (parked_.empty()) {
      co_await parked_changed_.wait();
      continue;
    }
    auto [ec, client] = co_await acceptor_->async_accept(kUse);
    if (closed_) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      log_line("egress: accept: " + ec.message());  // e.g. EMFILE: try again later
      continue;
    }
    boost::system::error_code ignored;
    const uint16_t port = client.remote_endpoint(ignored).port();
    wire::EgressConnected hello{describe_local_client(port)};
    // A parked stream the host has since reset cannot carry it: try the next.
    std::shared_ptr<wire::Stream> stream;
    while (!parked_.empty() && !stream) {
      auto s = parked_.front();
      parked_.pop_front();
      if ((co_await s->send_message(hello)).ok()) stream = s;
    }
    if (!stream) continue;  // the client is closed with `client`; it sees a reset
    asio::posix::stream_descriptor sock(state_.ex, client.release(ignored));
    asio::co_spawn(
        state_.ex,
        [](std::shared_ptr<wire::Stream> s, asio::posix::stream_descriptor d) -> asio::awaitable<void> {
          (void)co_await wire::pump_socket(std::move(s), std::move(d), wire::StreamFd::kStdout,
                                           wire::StreamFd::kStdin);
        }(std::move(stream), std::move(sock)),
        asio::detached);
  }
}

}  // namespace hull::agent
