#include "agent/egress_listener.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
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
    start_dns();
  }
  parked_.push_back(std::move(stream));
  parked_changed_.notify();
}

void EgressListener::close() {
  closed_ = true;
  boost::system::error_code ec;
  if (acceptor_) acceptor_->close(ec);
  if (dns_) dns_->close(ec);
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
    wire::EgressConnected hello{describe_local_client(port), "proxy"};
    auto stream = co_await take_parked(hello);
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

asio::awaitable<std::shared_ptr<wire::Stream>> EgressListener::take_parked(const wire::EgressConnected& hello) {
  while (!closed_) {
    if (parked_.empty()) {
      co_await parked_changed_.wait();
      continue;
    }
    auto s = parked_.front();
    parked_.pop_front();
    // A parked stream the host has since reset cannot carry it: try the next.
    if ((co_await s->send_message(hello)).ok()) co_return s;
  }
  co_return nullptr;
}

namespace {

constexpr size_t kMaxDnsMessage = 4096;

// /etc/resolv.conf names the stub. Replaced, not written through: it may be
// a symlink (into /run) that must not be followed; written in place only
// when it is a mount point that cannot be replaced.
void point_resolv_conf_at_the_stub() {
  const std::string text =
      "# hull: the sandbox's stub resolver; the host looks names up and applies the network policy\n"
      "nameserver 127.0.0.1\noptions timeout:5 attempts:2\n";
  const char* path = "/etc/resolv.conf";
  const std::string tmp = std::string(path) + ".hull-tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd >= 0) {
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (ok && ::rename(tmp.c_str(), path) == 0) return;
    ::unlink(tmp.c_str());
  }
  fd = ::open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    log_line("egress: cannot point /etc/resolv.conf at the stub resolver; names resolve only through the proxy");
  if (fd >= 0) ::close(fd);
}

}  // namespace

void EgressListener::start_dns() {
  asio::ip::udp::socket s(state_.ex);
  boost::system::error_code ec;
  const asio::ip::udp::endpoint at(asio::ip::address_v4::loopback(), 53);
  s.open(at.protocol(), ec);
  if (!ec) s.bind(at, ec);
  if (ec) {
    log_line("egress: no stub resolver on 127.0.0.1:53: " + ec.message());
    return;
  }
  dns_.emplace(std::move(s));
  point_resolv_conf_at_the_stub();
  asio::co_spawn(state_.ex, dns_loop(), asio::detached);
}

asio::awaitable<void> EgressListener::dns_loop() {
  std::vector<std::byte> buf(kMaxDnsMessage);
  while (!closed_) {
    asio::ip::udp::endpoint from;
    auto [ec, n] = co_await dns_->async_receive_from(asio::buffer(buf), from, kUse);
    if (closed_ || ec == asio::error::operation_aborted) co_return;
    if (ec || n < 12) continue;
    asio::co_spawn(state_.ex, answer_dns(std::vector<std::byte>(buf.begin(), buf.begin() + n), from),
                   asio::detached);
  }
}

asio::awaitable<void> EgressListener::answer_dns(std::vector<std::byte> query, asio::ip::udp::endpoint from) {
  wire::EgressConnected hello{"port " + std::to_string(from.port()), "dns"};
  auto stream = co_await take_parked(hello);
  if (!stream) co_return;
  if (!(co_await stream->send_data(wire::StreamFd::kStdout, query)).ok() ||
      !(co_await stream->send_eof(wire::StreamFd::kStdout)).ok())
    co_return;
  // The host answers or resets (its egress process bounds the lookup; a
  // dead egress process resets the stream); the client retries meanwhile.
  std::vector<std::byte> answer;
  bool complete = false;
  while (!complete) {
    wire::Incoming in = co_await stream->receive();
    switch (in.kind) {
      case wire::Incoming::Kind::kData:
        if (in.fd != wire::StreamFd::kStdin || answer.size() + in.data.size() > kMaxDnsMessage) {
          stream->reset("bad dns answer");
          co_return;
        }
        answer.insert(answer.end(), in.data.begin(), in.data.end());
        stream->consume(in.data.size());
        break;
      case wire::Incoming::Kind::kEof: complete = true; break;
      case wire::Incoming::Kind::kMessage:
      case wire::Incoming::Kind::kReset:
      case wire::Incoming::Kind::kClosed: stream->reset("no dns answer"); co_return;
    }
  }
  stream->finish();
  if (closed_ || !dns_ || answer.empty()) co_return;
  auto [ec, n] = co_await dns_->async_send_to(asio::buffer(answer), from, kUse);
  (void)ec;
  (void)n;
}

}  // namespace hull::agent
