// `hull cp SRC DST`: one regular file between the host and a sandbox,
// exactly one side written NAME:/path, '-' for stdin/stdout on the host side.
// Streamed through the supervisor with FileRequest kRead/kWrite: at most one
// chunk (plus the channel's credit window) is in memory at any time.
// Host paths are reached without following symlinks (cli/host_files.h); a
// download writes no more than the sandbox announced, into a temp file that
// replaces DST only once complete.
#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <optional>

#include "base/paths.h"
#include "cli/client_session.h"
#include "cli/commands.h"
#include "cli/host_files.h"
#include "cli/sandbox_ref.h"
#include "cli/tty.h"

namespace hull::cli {

namespace asio = boost::asio;
using asio::posix::stream_descriptor;

namespace {

struct Endpoint {
  std::string sandbox;  // empty: host side
  std::string path;     // "-" on the host side: stdin/stdout
};

Endpoint parse_endpoint(const std::string& s) {
  size_t colon = s.find(':');
  if (colon != std::string::npos && colon + 1 < s.size() && s[colon + 1] == '/' &&
      paths::valid_sandbox_name(s.substr(0, colon)))
    return {s.substr(0, colon), s.substr(colon + 1)};
  return {"", s};
}

std::string base_name(const std::string& p) { return std::filesystem::path(p).filename().string(); }

Error file_error(const std::string& op, const wire::FileDone& d) {
  return sys_error(op, d.err, d.error);
}

// Stat inside the sandbox: FileInfo, or the FileDone error.
asio::awaitable<Result<wire::FileInfo>> remote_stat(wire::Channel& ch, const std::string& path) {
  wire::FileRequest req;
  req.op = wire::FileOp::kStat;
  req.path = path;
  auto s = co_await ch.open(req);
  if (!s) co_return s.error();
  for (;;) {
    auto in = co_await (*s)->receive();
    if (in.kind == wire::Incoming::Kind::kMessage) {
      if (auto* info = std::get_if<wire::FileInfo>(&in.message)) {
        (*s)->finish();
        co_return *info;
      }
      if (auto* done = std::get_if<wire::FileDone>(&in.message)) co_return file_error("stat " + path, *done);
    } else if (in.kind == wire::Incoming::Kind::kReset || in.kind == wire::Incoming::Kind::kClosed) {
      co_return make_error("stat " + path, "the sandbox ended the request: " + in.reason);
    }
  }
}

asio::awaitable<int> copy_in(wire::Channel& ch, int src_fd, std::string dst, const std::string& src_name, mode_t mode) {
  auto ex = co_await asio::this_coro::executor;
  if (auto info = co_await remote_stat(ch, dst); info && info->type == wire::FileType::kDirectory) {
    if (src_name == "-") co_return fail("destination " + dst + " is a directory", "name the file to write");
    dst += "/" + base_name(src_name);
  }
  wire::FileRequest req;
  req.op = wire::FileOp::kWrite;
  req.path = dst;
  req.mode = mode & 0777;
  auto s = co_await ch.open(req);
  if (!s) co_return fail("write " + dst + ": " + s.error().message());
  stream_descriptor in(ex, src_fd);
  std::vector<std::byte> buf(wire::kMaxPayload);
  for (;;) {
    boost::system::error_code ec;
    size_t n = co_await in.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::eof || (!ec && n == 0)) break;
    if (ec) co_return fail("read " + src_name + ": " + ec.message());
    // Suspends until the sandbox granted credit: our reads follow its pace.
    auto st = co_await (*s)->send_data(wire::StreamFd::kStdin, std::span(buf.data(), n));
    if (!st) co_return fail("copy to the sandbox: " + st.error().message());
  }
  (void)co_await (*s)->send_eof(wire::StreamFd::kStdin);
  for (;;) {
    auto msg = co_await (*s)->receive();
    if (msg.kind == wire::Incoming::Kind::kMessage) {
      if (auto* done = std::get_if<wire::FileDone>(&msg.message)) {
        (*s)->finish();
        co_return done->err == 0 ? 0 : fail(file_error("write " + dst + " in the sandbox", *done));
      }
    } else if (msg.kind == wire::Incoming::Kind::kReset || msg.kind == wire::Incoming::Kind::kClosed) {
      co_return fail("write " + dst + ": the sandbox ended the request: " + msg.reason);
    }
  }
}

// The content the sandbox streams for a kRead goes here: a HostDownload (a
// temp file renamed into place once complete) or our stdout.
struct Sink {
  std::optional<HostDownload> file;
  std::optional<stream_descriptor> out;
  std::string shown;
};

asio::awaitable<int> copy_out(wire::Channel& ch, std::string src, std::string dst) {
  auto ex = co_await asio::this_coro::executor;
  auto info = co_await remote_stat(ch, src);
  if (!info) co_return fail(info.error());
  if (info->type == wire::FileType::kDirectory) co_return fail("copying directories is not supported yet", "copy the files one by one");
  Sink sink;
  if (dst == "-") {
    sink.out.emplace(ex, ::fcntl(1, F_DUPFD_CLOEXEC, 3));
    sink.shown = "stdout";
  } else {
    auto d = HostDownload::prepare(dst, base_name(src));
    if (!d) co_return fail(d.error());
    sink.file.emplace(std::move(*d));
    sink.shown = sink.file->target();
  }
  wire::FileRequest req;
  req.op = wire::FileOp::kRead;
  req.path = src;
  auto s = co_await ch.open(req);
  if (!s) co_return fail("read " + src + ": " + s.error().message());
  // The sandbox announces the file (FileInfo) before its content, and may
  // not send a byte more: a hostile one could otherwise stream without end.
  std::optional<uint64_t> announced;
  uint64_t received = 0;
  const std::string nothing_left = sink.file ? "nothing was written to " + sink.shown : "output stopped there";
  for (;;) {
    auto in = co_await (*s)->receive();
    switch (in.kind) {
      case wire::Incoming::Kind::kData: {
        if (!announced) {
          (*s)->reset("file content before file_info");
          co_return fail("read " + src + ": the sandbox sent content before announcing the file", nothing_left);
        }
        if (in.data.size() > *announced - received) {
          (*s)->reset("more content than announced");
          co_return fail("read " + src + ": the sandbox sent more than the " + std::to_string(*announced) +
                             " bytes it announced",
                         nothing_left + "; a file that grew while it was copied can be copied again, and one "
                                        "with no size of its own (/proc, /sys) read with hull exec NAME -- cat FILE");
        }
        received += in.data.size();
        if (sink.file) {
          if (auto st = sink.file->write(in.data); !st) {
            (*s)->reset("local write failed");
            co_return fail(st.error());
          }
        } else {
          boost::system::error_code ec;
          co_await asio::async_write(*sink.out, asio::buffer(in.data), asio::redirect_error(asio::use_awaitable, ec));
          if (ec) {
            (*s)->reset("local write failed");
            co_return fail("write stdout: " + ec.message());
          }
        }
        (*s)->consume(in.data.size());  // credit back only once it is written
        break;
      }
      case wire::Incoming::Kind::kEof:
        break;
      case wire::Incoming::Kind::kMessage:
        if (auto* fi = std::get_if<wire::FileInfo>(&in.message); fi && !announced) {
          announced = fi->size;
          if (sink.file) {
            if (auto st = sink.file->begin(fi->size, fi->mode); !st) {
              (*s)->reset("refused by the host");
              co_return fail(st.error());
            }
          }
        } else if (auto* done = std::get_if<wire::FileDone>(&in.message)) {
          (*s)->finish();
          if (done->err != 0) co_return fail(file_error("read " + src + " in the sandbox", *done));
          if (!announced) co_return fail("read " + src + ": the sandbox never announced the file", nothing_left);
          if (sink.file) {
            if (auto st = sink.file->commit(); !st) co_return fail(st.error());
          }
          co_return 0;
        }
        break;
      case wire::Incoming::Kind::kReset:
      case wire::Incoming::Kind::kClosed:
        co_return fail("read " + src + ": the sandbox ended the request: " + in.reason);
    }
  }
}

}  // namespace

int cmd_cp(const std::string& src_arg, const std::string& dst_arg) {
  Endpoint src = parse_endpoint(src_arg), dst = parse_endpoint(dst_arg);
  if (src.sandbox.empty() == dst.sandbox.empty())
    return fail("exactly one side of hull cp must be NAME:/path", "e.g. hull cp ./file mybox:/workspace/file");
  const Endpoint& remote = src.sandbox.empty() ? dst : src;
  auto sb = find_sandbox(remote.sandbox);
  if (!sb) return fail(sb.error());
  if (sb->state.status != supervisor::SandboxStatus::kRunning)
    return fail("sandbox '" + sb->name + "' is not running (status: " + supervisor::status_name(sb->state.status) + ")");
  StdioFlagsGuard restore_flags;

  if (!dst.sandbox.empty()) {
    UploadSource in;
    if (src.path == "-") {
      in.fd.reset(::fcntl(0, F_DUPFD_CLOEXEC, 3));
      if (!in.fd) return fail(sys_error("dup stdin"));
    } else {
      auto opened = open_upload_source(src.path);
      if (!opened) return fail(opened.error());
      in = std::move(*opened);
    }
    int fd = in.fd.release();  // owned by the stream_descriptor from here
    return run_session(sb->state.socket, "client", [&](wire::Channel& ch) {
      return copy_in(ch, fd, dst.path, src.path, in.mode);
    });
  }
  return run_session(sb->state.socket, "client", [&](wire::Channel& ch) { return copy_out(ch, src.path, dst.path); });
}

}  // namespace hull::cli
