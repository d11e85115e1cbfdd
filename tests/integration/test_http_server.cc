#include "test_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sys/wait.h>

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

std::unique_ptr<TestHttpServer> TestHttpServer::git_backend(const std::string& project_root) {
  auto s = std::make_unique<TestHttpServer>();
  s->git_root_ = project_root;
  return s;
}

namespace {

// The value of header `name` (lower case, with ':') in a lower-cased head.
std::string header_value(const std::string& lower_head, const std::string& name) {
  auto p = lower_head.find("\r\n" + name);
  if (p == std::string::npos) return "";
  p += 2 + name.size();
  auto e = lower_head.find("\r\n", p);
  std::string v = lower_head.substr(p, e == std::string::npos ? std::string::npos : e - p);
  while (!v.empty() && v.front() == ' ') v.erase(0, 1);
  return v;
}

// A chunked body, decoded (the test's own client, git, sends well-formed ones).
std::string dechunk(const std::string& in) {
  std::string out;
  size_t p = 0;
  for (;;) {
    auto eol = in.find("\r\n", p);
    if (eol == std::string::npos) return out;
    const size_t n = std::strtoul(in.c_str() + p, nullptr, 16);
    if (n == 0) return out;
    out += in.substr(eol + 2, n);
    p = eol + 2 + n + 2;
  }
}

}  // namespace

// CGI (RFC 3875) as much as git http-backend needs: the request's method,
// path, query, content type and body in; "Status:" and headers out.
void TestHttpServer::serve_cgi(int conn, const std::string& method, const std::string& target,
                               const std::string& lower_head, const std::string& body) {
  const auto q = target.find('?');
  const std::string path = target.substr(0, q), query = q == std::string::npos ? "" : target.substr(q + 1);
  int in[2], out[2];
  if (::pipe(in) != 0 || ::pipe(out) != 0) return;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::close(in[1]);
    ::close(out[0]);
    ::setenv("GIT_PROJECT_ROOT", git_root_.c_str(), 1);
    ::setenv("GIT_HTTP_EXPORT_ALL", "1", 1);
    ::setenv("REQUEST_METHOD", method.c_str(), 1);
    ::setenv("PATH_INFO", path.c_str(), 1);
    ::setenv("QUERY_STRING", query.c_str(), 1);
    ::setenv("CONTENT_TYPE", header_value(lower_head, "content-type:").c_str(), 1);
    ::setenv("CONTENT_LENGTH", std::to_string(body.size()).c_str(), 1);
    ::setenv("GIT_PROTOCOL", header_value(lower_head, "git-protocol:").c_str(), 1);
    ::setenv("REMOTE_USER", "tester", 1);  // git http-backend wants someone for receive-pack
    ::setenv("REMOTE_ADDR", "127.0.0.1", 1);
    ::execlp("git", "git", "http-backend", nullptr);
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  std::thread writer([fd = in[1], &body] {
    size_t off = 0;
    while (off < body.size()) {
      ssize_t w = ::write(fd, body.data() + off, body.size() - off);
      if (w <= 0) break;
      off += static_cast<size_t>(w);
    }
    ::close(fd);
  });
  std::string cgi;
  char buf[16384];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) cgi.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  writer.join();
  ::waitpid(pid, nullptr, 0);
  size_t sep = cgi.find("\r\n\r\n"), skip = 4;
  if (sep == std::string::npos) sep = cgi.find("\n\n"), skip = 2;
  if (sep == std::string::npos) sep = cgi.size(), skip = 0;
  std::string headers = cgi.substr(0, sep), status = "200 OK", rest;
  for (size_t p = 0; p < headers.size();) {
    size_t e = headers.find('\n', p);
    if (e == std::string::npos) e = headers.size();
    std::string line = headers.substr(p, e - p);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("Status:", 0) == 0) status = line.substr(line.find_first_not_of(' ', 7));
    else if (!line.empty()) rest += line + "\r\n";
    p = e + 1;
  }
  const std::string payload = cgi.substr(std::min(cgi.size(), sep + skip));
  const std::string response = "HTTP/1.1 " + status + "\r\n" + rest + "Content-Length: " +
                               std::to_string(payload.size()) + "\r\nConnection: close\r\n\r\n" + payload;
  (void)::send(conn, response.data(), response.size(), MSG_NOSIGNAL);
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
  if (header_value(lower, "transfer-encoding:") == "chunked") {
    while (r.body.find("\r\n0\r\n\r\n") == std::string::npos && r.body.rfind("0\r\n\r\n", 0) != 0) {
      ssize_t n = ::read(conn.get(), buf, sizeof buf);
      if (n <= 0) break;
      r.body.append(buf, static_cast<size_t>(n));
    }
    r.body = dechunk(r.body);
  }
  const std::string line = r.head.substr(0, r.head.find("\r\n"));
  const std::string method = line.substr(0, line.find(' '));
  const std::string target = line.substr(line.find(' ') + 1, line.rfind(' ') - line.find(' ') - 1);
  {
    std::lock_guard<std::mutex> l(mu_);
    received_.push_back(r);
  }
  changed_.notify_all();
  if (!git_root_.empty()) {
    serve_cgi(conn.get(), method, target, lower, r.body);
    return;
  }
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
