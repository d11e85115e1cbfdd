#include "agent_harness.h"

#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "base/sys.h"

extern char** environ;

namespace hull::agent_test {

constexpr auto kUse = asio::as_tuple(asio::use_awaitable);

AgentHarness::AgentHarness() {
  auto pair = sys::socketpair();
  if (!pair) throw std::runtime_error(pair.error().message());
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  // dup2 clears O_CLOEXEC on the copy: the agent gets exactly fd 3.
  posix_spawn_file_actions_adddup2(&fa, pair->second.get(), 3);
  std::string bin = HULL_AGENT_BIN;
  char* argv[] = {bin.data(), const_cast<char*>("--channel-fd"), const_cast<char*>("3"), nullptr};
  int rc = posix_spawn(&pid_, bin.c_str(), &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("spawn hull-agent failed");
  pidfd_ = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
  pair->second.reset();
  channel_ = std::make_unique<wire::Channel>(io_.get_executor(), std::move(pair->first),
                                             wire::Channel::Side::kInitiator);
  run([this]() -> asio::awaitable<void> {
    auto hello = co_await channel_->handshake(wire::Hello{wire::kProtocolVersion, "supervisor", "agent-test"});
    EXPECT_TRUE(hello.ok()) << (hello.ok() ? "" : hello.error().message());
    if (!hello) co_return;
    EXPECT_EQ(hello->role, "agent");
    asio::co_spawn(io_, channel_->run(), asio::detached);
    auto ready = co_await channel_->receive_control();
    EXPECT_TRUE(ready.ok());
    if (ready.ok() && std::holds_alternative<wire::Ready>(*ready)) ready_ = std::get<wire::Ready>(*ready);
    else ADD_FAILURE() << "first control message was not Ready";
  }, 20s);
}

AgentHarness::~AgentHarness() {
  if (channel_) channel_->close("test done");
  if (!exited_ && !wait_agent_exit(5000ms)) {
    ADD_FAILURE() << "hull-agent did not exit after the channel closed";
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  // Let the channel's own coroutines finish before it is destroyed.
  io_.restart();
  io_.run_for(100ms);
}

void AgentHarness::run(std::function<asio::awaitable<void>()> body, std::chrono::seconds limit) {
  bool done = false;
  asio::co_spawn(io_, body(), [&](std::exception_ptr e) {
    done = true;
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        ADD_FAILURE() << "test coroutine threw: " << ex.what();
      }
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + limit;
  io_.restart();
  while (!done && std::chrono::steady_clock::now() < deadline) io_.run_one_for(100ms);
  if (!done) {
    ADD_FAILURE() << "test body did not finish within " << limit.count() << " s";
    channel_->close("test timed out");
    io_.run_for(1s);
  }
}

std::optional<int> AgentHarness::wait_agent_exit(std::chrono::milliseconds limit) {
  // The pidfd becomes readable when the agent exits: no polling.
  std::optional<int> status;
  asio::posix::stream_descriptor d(io_, ::dup(pidfd_.get()));
  asio::steady_timer t(io_, limit);
  bool ready = false;
  d.async_wait(asio::posix::stream_descriptor::wait_read, [&](boost::system::error_code ec) {
    if (!ec) ready = true;
    t.cancel();
  });
  t.async_wait([&](boost::system::error_code) { d.cancel(); });
  io_.restart();
  while (!ready && t.expiry() > std::chrono::steady_clock::now()) io_.run_one_for(50ms);
  d.cancel();
  t.cancel();
  io_.restart();
  io_.poll();
  if (!ready) return std::nullopt;
  int st = 0;
  if (::waitpid(pid_, &st, 0) == pid_) {
    exited_ = true;
    status = st;
  }
  return status;
}

wire::ExecRequest command(std::vector<std::string> argv) {
  wire::ExecRequest r;
  r.argv = std::move(argv);
  r.env = default_env();
  r.cwd = "/";
  r.uid = ::getuid();
  r.gid = ::getgid();
  return r;
}

std::vector<std::string> default_env() {
  return {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/root", "LANG=C"};
}

std::span<const std::byte> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

asio::awaitable<void> collect(wire::Stream& s, ExecOutcome& o, const std::string& until) {
  while (!o.exit) {
    if (!until.empty() && o.out.find(until) != std::string::npos) co_return;
    auto in = co_await s.receive();
    switch (in.kind) {
      case wire::Incoming::Kind::kMessage:
        if (auto* st = std::get_if<wire::ExecStarted>(&in.message)) o.started_pid = st->pid;
        else if (auto* ex = std::get_if<wire::ExecExit>(&in.message)) o.exit = *ex;
        else o.problem = std::string("unexpected message ") + wire::message_name(in.message);
        break;
      case wire::Incoming::Kind::kData: {
        std::string chunk(reinterpret_cast<const char*>(in.data.data()), in.data.size());
        (in.fd == wire::StreamFd::kStderr ? o.err : o.out) += chunk;
        s.consume(in.data.size());
        break;
      }
      case wire::Incoming::Kind::kEof:
        (in.fd == wire::StreamFd::kStderr ? o.err_eof : o.out_eof) = true;
        break;
      case wire::Incoming::Kind::kReset:
      case wire::Incoming::Kind::kClosed:
        o.problem = in.reason.empty() ? "stream ended" : in.reason;
        co_return;
    }
  }
}

asio::awaitable<ExecOutcome> exec_collect(wire::Channel& ch, wire::ExecRequest req, std::string input) {
  ExecOutcome o;
  auto s = co_await ch.open(req);
  if (!s) {
    o.problem = s.error().message();
    co_return o;
  }
  auto& stream = **s;
  // Stdin is fed concurrently with reading the output: a process like `cat`
  // stops reading input while its output waits for credit, so sending all of
  // it first would deadlock (by design: that is the backpressure).
  std::shared_ptr<wire::Stream> keep = *s;
  auto feeding = std::make_shared<std::string>(std::move(input));
  asio::co_spawn(
      co_await asio::this_coro::executor,
      [keep, feeding]() -> asio::awaitable<void> {
        if (!feeding->empty()) (void)co_await keep->send_data(wire::StreamFd::kStdin, as_bytes(*feeding));
        (void)co_await keep->send_eof(wire::StreamFd::kStdin);
      },
      asio::detached);
  co_await collect(stream, o);
  stream.finish();
  co_return o;
}

static std::string proc_field(pid_t pid, const char* file, const std::string& key) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/" + file);
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) return line.substr(key.size());
  return {};
}

long rss_kib(pid_t pid) {
  auto v = proc_field(pid, "status", "VmRSS:");
  return v.empty() ? 0 : std::stol(v);
}

long long bytes_written(pid_t pid) {
  auto v = proc_field(pid, "io", "wchar:");
  return v.empty() ? -1 : std::stoll(v);
}

char process_state(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = all.rfind(')');  // comm may contain spaces and parens
  if (close == std::string::npos || close + 2 >= all.size()) return 0;
  return all[close + 2];
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  (void)co_await t.async_wait(kUse);
}

asio::awaitable<bool> wait_process_exit(pid_t pid, std::chrono::milliseconds limit) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) co_return errno == ESRCH;  // already gone (and reaped)
  auto ex = co_await asio::this_coro::executor;
  asio::posix::stream_descriptor d(ex, fd);
  asio::steady_timer t(ex, limit);
  bool exited = false;
  d.async_wait(asio::posix::stream_descriptor::wait_read, [&](boost::system::error_code ec) {
    exited = !ec;
    t.cancel();
  });
  (void)co_await t.async_wait(kUse);
  d.cancel();
  // Let the cancelled wait's handler run before `d` and `exited` go away.
  asio::steady_timer settle(ex, 0ms);
  (void)co_await settle.async_wait(kUse);
  co_return exited;
}

Latch::Latch(asio::any_io_executor ex, int count)
    : count_(count), timer_(std::make_unique<asio::steady_timer>(ex)) {}

void Latch::count_down() {
  if (--count_ <= 0) timer_->cancel();
}

asio::awaitable<bool> Latch::wait(std::chrono::milliseconds limit) {
  if (count_ <= 0) co_return true;
  timer_->expires_after(limit);
  (void)co_await timer_->async_wait(kUse);
  co_return count_ <= 0;
}

}  // namespace hull::agent_test
