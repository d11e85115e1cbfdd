// kRead and kWrite: the two file ops that move content, with flow control.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "agent/file_ops.h"
#include "base/fd.h"

namespace hull::agent::file_detail {
namespace {

constexpr size_t kChunk = 64 * 1024;

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Temp file next to the target (same filesystem, so rename is atomic).
// Removed on destruction unless committed.
struct TempFile {
  std::string path;
  UniqueFd fd;
  bool committed = false;
  ~TempFile() {
    if (!committed && !path.empty()) ::unlink(path.c_str());
  }
};

int open_temp(const std::string& target, mode_t mode, TempFile& t) {
  auto slash = target.rfind('/');
  std::string name = target.substr(slash + 1);
  if (name.empty()) return EISDIR;  // "/dir/"
  std::string tmpl = target.substr(0, slash + 1) + "." + name.substr(0, 200) + ".hull-XXXXXX";
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return errno;
  t.path = std::move(tmpl);
  t.fd = UniqueFd(fd);
  // mkostemp creates 0600 and the umask would trim `mode`: set it exactly.
  if (::fchmod(fd, mode) < 0) return errno;
  return 0;
}

int write_all(int fd, const std::vector<std::byte>& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    off += static_cast<size_t>(n);
  }
  return 0;
}

int commit(TempFile& t, const std::string& target) {
  if (::fsync(t.fd.get()) < 0) return errno;
  if (::rename(t.path.c_str(), target.c_str()) < 0) return errno;
  t.committed = true;
  // The rename itself is durable only once the directory is synced.
  UniqueFd dir(::open(dir_of(target).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir) (void)::fsync(dir.get());
  return 0;
}

}  // namespace

boost::asio::awaitable<void> read_file(wire::Stream& stream, const wire::FileRequest& req) {
  // O_NONBLOCK so that opening a FIFO cannot hang the agent; only regular
  // files are read (a device like /dev/zero would never end).
  UniqueFd fd(::open(req.path.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) co_return co_await finish_with(stream, done_errno(errno, "read " + req.path));
  struct ::stat st {};
  if (::fstat(fd.get(), &st) < 0) co_return co_await finish_with(stream, done_errno(errno, "read " + req.path));
  if (!S_ISREG(st.st_mode))
    co_return co_await finish_with(
        stream, done_errno(S_ISDIR(st.st_mode) ? EISDIR : EINVAL, "read " + req.path + " (not a regular file)"));
  if (!(co_await stream.send_message(info_of(st))).ok()) co_return;

  std::vector<std::byte> buf(kChunk);
  for (;;) {
    // Regular-file reads do not block on the event loop in any way that
    // matters (page cache or disk), so a plain read is fine here.
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) co_return co_await finish_with(stream, done_errno(errno, "read " + req.path));
    if (n == 0) break;
    if (!(co_await stream.send_data(wire::StreamFd::kStdout, std::span(buf.data(), static_cast<size_t>(n)))).ok())
      co_return;  // reset or channel gone
  }
  if (!(co_await stream.send_eof(wire::StreamFd::kStdout)).ok()) co_return;
  co_await finish_with(stream, done_ok());
}

boost::asio::awaitable<void> write_file(wire::Stream& stream, const wire::FileRequest& req) {
  TempFile tmp;
  int err = open_temp(req.path, static_cast<mode_t>(req.mode), tmp);
  std::string what = "write " + req.path;
  for (;;) {
    auto in = co_await stream.receive();
    switch (in.kind) {
      case wire::Incoming::Kind::kData:
        if (in.fd != wire::StreamFd::kStdin) {
          stream.reset("file write: data is only accepted for stdin");
          co_return;
        }
        // After an error, keep consuming so the host can reach its Eof and
        // read our FileDone (replying early would race its sends).
        if (err == 0) err = write_all(tmp.fd.get(), in.data);
        stream.consume(in.data.size());
        break;
      case wire::Incoming::Kind::kEof:
        if (in.fd != wire::StreamFd::kStdin) break;
        if (err == 0) err = commit(tmp, req.path);
        co_return co_await finish_with(stream, err == 0 ? done_ok() : done_errno(err, what));
      case wire::Incoming::Kind::kMessage:
        stream.reset(std::string("file write: unexpected message ") + wire::message_name(in.message));
        co_return;
      case wire::Incoming::Kind::kReset:
        co_return;  // TempFile removes the partial file
      case wire::Incoming::Kind::kClosed:
        // The host finished without Eof: the transfer is incomplete.
        (void)co_await stream.send_message(done_errno(EPIPE, what + " (ended before eof)"));
        stream.finish();
        co_return;
    }
  }
}

}  // namespace hull::agent::file_detail
