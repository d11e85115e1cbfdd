// A real HTTP/1.1 server on 127.0.0.1 (kernel-chosen port) for the egress
// tests: each connection is served on its own thread, one request per
// connection ("Connection: close"). It answers "hello <METHOD> <TARGET>\n"
// (or `body_size` bytes for a download) and records every request head and
// body it received, so a test can check what reached it — and what did not.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/fd.h"

namespace hull::testing {

struct ReceivedRequest {
  std::string head;  // request line and header fields, as received
  std::string body;
};

class TestHttpServer {
 public:
  // body_size > 0: every answer is that many bytes ('x'), for downloads.
  // stall_after > 0: after that many body bytes the server stops sending
  // (holding the connection open) until it is destroyed: a transfer that
  // is certainly still running when a test interrupts it.
  explicit TestHttpServer(uint64_t body_size = 0, uint64_t stall_after = 0);
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  // Serves the git repositories under `project_root` over smart HTTP by
  // running the real `git http-backend` (CGI) for every request.
  static std::unique_ptr<TestHttpServer> git_backend(const std::string& project_root);

  int port() const { return port_; }
  std::vector<ReceivedRequest> requests() const;
  // Waits (condition variable, at most `timeout`) until `n` requests came.
  bool wait_for_requests(size_t n, std::chrono::milliseconds timeout);

 private:
  void accept_loop();
  void serve(UniqueFd conn);
  void serve_cgi(int conn, const std::string& method, const std::string& target, const std::string& lower_head,
                 const std::string& body);

  UniqueFd listener_;
  int port_ = 0;
  uint64_t body_size_;
  uint64_t stall_after_;
  std::string git_root_;  // git_backend(): non-empty
  std::condition_variable changed_;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<ReceivedRequest> received_;
  std::vector<std::thread> workers_;
};

}  // namespace hull::testing
