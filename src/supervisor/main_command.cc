// The sandbox's main command: its exit status, and detach mode (`hull run
// -d`), where the supervisor runs it itself with output to main.log.
#include <fcntl.h>

#include "base/log.h"
#include "base/sys.h"
#include "supervisor/supervisor_core.h"

namespace hull::supervisor {

namespace {

// main.log is for a human looking back (`hull logs`); a command that prints
// forever must not fill the disk. Past the cap we keep consuming (so the
// command is not blocked) and drop the bytes.
constexpr size_t kMainLogCap = 16u << 20;
constexpr std::string_view kTruncatedNote = "\n[hull: main.log reached 16 MiB; further output dropped]\n";

class MainLog {
 public:
  explicit MainLog(const std::string& path) {
    auto fd = sys::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
    if (fd) {
      fd_ = std::move(fd).value();
    } else {
      log::error("open {}: {}", path, fd.error().message());
    }
  }
  void write(std::span<const std::byte> bytes) {
    if (!fd_ || truncated_) return;
    size_t room = kMainLogCap - written_;
    size_t n = std::min(room, bytes.size());
    if (auto st = sys::write_all(fd_.get(), bytes.first(n)); !st) {
      log::error("write main.log: {}", st.error().message());
      fd_.reset();
      return;
    }
    written_ += n;
    if (n < bytes.size()) {
      truncated_ = true;
      (void)sys::write_all(fd_.get(), kTruncatedNote);
      log::warn("main.log reached {} bytes; dropping further output", kMainLogCap);
    }
  }

 private:
  UniqueFd fd_;
  size_t written_ = 0;
  bool truncated_ = false;
};

}  // namespace

asio::awaitable<void> run_detached_main(Supervisor& sup) {
  const SandboxSpec& spec = sup.spec();
  wire::ExecRequest req;
  req.argv = spec.command;
  req.cwd = spec.workdir;
  req.uid = spec.uid;
  req.gid = spec.gid;
  req.tty = false;  // nobody is attached to a detached command's terminal
  req.timeout_ms = spec.timeout_ms;
  auto prepared = prepare_request(spec, req);
  if (!prepared) {
    sup.stop(Outcome{true, "main command: " + prepared.error().message(), std::nullopt});
    co_return;
  }
  MainLog out(sup.dir() + "/main.log");
  auto opened = co_await sup.agent().open(*prepared);
  if (!opened) {
    sup.stop(Outcome{true, "start main command: " + opened.error().message(), std::nullopt});
    co_return;
  }
  std::shared_ptr<wire::Stream> s = std::move(opened).value();
  (void)co_await s->send_eof(wire::StreamFd::kStdin);

  bool started = false;
  for (;;) {
    wire::Incoming in = co_await s->receive();
    switch (in.kind) {
      case wire::Incoming::Kind::kMessage:
        if (std::holds_alternative<wire::ExecStarted>(in.message) && !started) {
          started = true;
          log::info("main command started (pid {} inside)",
                    std::get<wire::ExecStarted>(in.message).pid);
        } else if (auto* e = std::get_if<wire::ExecExit>(&in.message)) {
          s->finish();
          sup.main_command_ended(wire::shell_exit_status(*e), e->error);
          co_return;
        } else {
          sup.agent_violation(std::string("main command stream: unexpected ") +
                              wire::message_name(in.message));
          co_return;
        }
        break;
      case wire::Incoming::Kind::kData:
        if (in.fd == wire::StreamFd::kStdin) {
          sup.agent_violation("main command stream: data for stdin");
          co_return;
        }
        out.write(in.data);
        s->consume(in.data.size());
        break;
      case wire::Incoming::Kind::kEof:
        break;
      case wire::Incoming::Kind::kReset:
        sup.main_command_ended(std::nullopt, "main command aborted: " + in.reason);
        co_return;
      case wire::Incoming::Kind::kClosed:
        co_return;  // the agent channel ended; its watcher reports why
    }
  }
}

}  // namespace hull::supervisor
