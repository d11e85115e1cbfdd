#include "test_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace hull::testing {

TestHttpServer::TestHttpServer(uint64_t body_size, uint64_t stall_after)
    : body_size_(body_size), stall_after_(stall_after) {
  listener_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listener_.get(), 512) != 0 ||
      ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
    return;
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TestHttpServer::~TestHttpServer() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  ::shutdown(listener_.get(), SHUT_RDWR);  // wakes accept()
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> l(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
}

std::vector<ReceivedRequest> TestHttpServer::requests() const {
  std::lock_guard<std::mutex> l(mu_);
  return received_;
}

bool TestHttpServer::wait_for_requests(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  return changed_.wait_for(l, timeout, [&] { return received_.size() >= n; });
}

void TestHttpServer::accept_loop() {
  while (!stopping_) {
    int c = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      if (stopping_) return;
      continue;
    }
    std::lock_guard<std::mutex> l(mu_);
    workers_.emplace_back([this, c] { serve(UniqueFd(c)); });
  }
}

void TestHttpServer::serve(UniqueFd conn) {
  std::string in;
  char buf[16384];
  size_t head_end;
  while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::read(conn.get(), buf, sizeof buf);
    if (n <= 0 || in.size() > (1 << 20)) return;
    in.append(buf, static_cast<size_t>(n));
  }
  ReceivedRequest r;
  r.head = in.substr(0, head_end);
  std::string lower = r.head;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  size_t want = 0;
  if (auto p = lower.find("\r\ncontent-length:"); p != std::string::npos)
    want = std::strtoul(lower.c_str() + p + 17, nullptr, 10);
  r.body = in.substr(head_end + 4);
  while (r.body.size() < want) {
    ssize_t n = ::read(conn.get(), buf, sizeof buf);
    if (n <= 0) break;
    r.body.append(buf, static_cast<size_t>(n));
  }
  const std::string line = r.head.substr(0, r.head.find("\r\n"));
  const std::string method = line.substr(0, line.find(' '));
  const std::string target = line.substr(line.find(' ') + 1, line.rfind(' ') - line.find(' ') - 1);
  {
    std::lock_guard<std::mutex> l(mu_);
    received_.push_back(r);
  }
  changed_.notify_all();
  const std::string hello = "hello " + method + " " + target + "\n";
  const uint64_t size = body_size_ > 0 ? body_size_ : hello.size();
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                           std::to_string(size) + "\r\nConnection: close\r\n\r\n";
  if (::send(conn.get(), head.data(), head.size(), MSG_NOSIGNAL) < 0) return;
  if (body_size_ == 0) {
    (void)::send(conn.get(), hello.data(), hello.size(), MSG_NOSIGNAL);
    return;
  }
  std::string chunk(1 << 16, 'x');
  for (uint64_t left = body_size_; left > 0;) {
    if (stall_after_ > 0 && body_size_ - left >= stall_after_) {
      std::unique_lock<std::mutex> l(mu_);
      changed_.wait(l, [&] { return stopping_.load(); });
      return;
    }
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
    if (stall_after_ > 0) n = static_cast<size_t>(std::min<uint64_t>(n, stall_after_ - (body_size_ - left)));
    ssize_t w = ::send(conn.get(), chunk.data(), n, MSG_NOSIGNAL);
    if (w <= 0) return;
    left -= static_cast<uint64_t>(w);
  }
}

}  // namespace hull::testing
