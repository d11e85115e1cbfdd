#include "agent/file_ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/fd.h"

namespace hull::agent {
namespace file_detail {

using wire::FileDone;

FileDone done_ok() { return {}; }

FileDone done_errno(int err, const std::string& what) {
  FileDone d;
  d.err = err;
  d.error = what + ": " + std::strerror(err);
  if (d.error.size() > 4096) d.error.resize(4096);  // paths are bounded, but keep the reply small
  return d;
}

wire::FileInfo info_of(const struct ::stat& st) {
  wire::FileInfo i;
  i.type = S_ISREG(st.st_mode)   ? wire::FileType::kRegular
           : S_ISDIR(st.st_mode) ? wire::FileType::kDirectory
           : S_ISLNK(st.st_mode) ? wire::FileType::kSymlink
                                 : wire::FileType::kOther;
  i.size = static_cast<uint64_t>(st.st_size);
  i.mode = st.st_mode & 07777;
  i.mtime_s = st.st_mtim.tv_sec;
  return i;
}

boost::asio::awaitable<void> finish_with(wire::Stream& stream, FileDone done) {
  if (!(co_await stream.send_message(done)).ok()) co_return;
  stream.finish();
  for (;;) {
    auto in = co_await stream.receive();
    if (in.kind == wire::Incoming::Kind::kData) stream.consume(in.data.size());
    if (in.kind == wire::Incoming::Kind::kClosed || in.kind == wire::Incoming::Kind::kReset) co_return;
  }
}

}  // namespace file_detail

namespace {

using namespace file_detail;
using wire::FileDone;

// A directory entry's JSON costs at most 6 bytes per name byte (\u00XX
// escapes) plus the fixed fields; stay well below one frame's payload.
constexpr size_t kListBatchBytes = 40 * 1024;
constexpr size_t kEntryOverhead = 64;
// Deeper trees than this are refused rather than risking the agent's stack.
constexpr int kMaxRemoveDepth = 256;

boost::asio::awaitable<FileDone> list_dir(wire::Stream& stream, const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) co_return done_errno(errno, "list " + path);
  DIR* dir = ::fdopendir(fd.get());
  if (!dir) co_return done_errno(errno, "list " + path);
  const int dfd = fd.release();  // owned by `dir` now
  struct Closer {
    DIR* d;
    ~Closer() { ::closedir(d); }
  } closer{dir};

  wire::DirEntries batch;
  size_t bytes = 0;
  for (;;) {
    errno = 0;
    struct dirent* e = ::readdir(dir);
    if (!e) {
      if (errno != 0) co_return done_errno(errno, "list " + path);
      break;
    }
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    wire::DirEntry entry;
    entry.name = e->d_name;
    struct ::stat st {};
    if (::fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      auto info = info_of(st);
      entry.type = info.type;
      entry.size = info.size;
    }  // else: vanished meanwhile; still listed, as kOther
    bytes += entry.name.size() * 6 + kEntryOverhead;
    batch.entries.push_back(std::move(entry));
    if (batch.entries.size() == wire::kMaxDirEntriesPerMessage || bytes >= kListBatchBytes) {
      if (!(co_await stream.send_message(batch)).ok()) co_return done_errno(EPIPE, "list " + path);
      batch.entries.clear();
      bytes = 0;
    }
  }
  if (!batch.entries.empty() && !(co_await stream.send_message(batch)).ok())
    co_return done_errno(EPIPE, "list " + path);
  co_return done_ok();
}

FileDone make_dir(const std::string& path, mode_t mode, bool parents) {
  if (!parents) {
    if (::mkdir(path.c_str(), mode) < 0) return done_errno(errno, "mkdir " + path);
    return done_ok();
  }
  // -p: create each missing component; an existing directory is fine.
  for (size_t pos = 1;; ++pos) {
    pos = path.find('/', pos);
    std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), mode) < 0) {
      struct ::stat st {};
      if (errno != EEXIST || ::stat(part.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
        return done_errno(errno == EEXIST ? ENOTDIR : errno, "mkdir " + part);
    }
    if (pos == std::string::npos) return done_ok();
  }
}

// Removes the contents of the directory open as `dfd`, never following a
// symlink: entries are opened with O_NOFOLLOW and links are unlinked as files.
int remove_contents(int dfd, int depth) {
  if (depth > kMaxRemoveDepth) return ELOOP;
  int dup = ::fcntl(dfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return errno;
  DIR* dir = ::fdopendir(dup);
  if (!dir) {
    int e = errno;
    ::close(dup);
    return e;
  }
  int result = 0;
  while (struct dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    if (::unlinkat(dfd, e->d_name, 0) == 0 || errno == ENOENT) continue;
    if (errno != EISDIR) {
      result = errno;
      break;
    }
    UniqueFd sub(::openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) {
      result = errno;
      break;
    }
    if ((result = remove_contents(sub.get(), depth + 1)) != 0) break;
    if (::unlinkat(dfd, e->d_name, AT_REMOVEDIR) < 0) {
      result = errno;
      break;
    }
  }
  ::closedir(dir);
  return result;
}

FileDone remove_path(const std::string& path, bool recursive) {
  if (path == "/") return done_errno(EBUSY, "remove /");
  struct ::stat st {};
  if (::lstat(path.c_str(), &st) < 0) return done_errno(errno, "remove " + path);
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) < 0) return done_errno(errno, "remove " + path);
    return done_ok();
  }
  if (recursive) {
    UniqueFd d(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!d) return done_errno(errno, "remove " + path);
    if (int e = remove_contents(d.get(), 0); e != 0) return done_errno(e, "remove " + path);
  }
  if (::rmdir(path.c_str()) < 0) return done_errno(errno, "remove " + path);
  return done_ok();
}

}  // namespace

boost::asio::awaitable<void> serve_file(AgentState& state, std::shared_ptr<wire::Stream> stream,
                                        wire::FileRequest req) {
  wire::Stream& s = *stream;
  switch (req.op) {
    case wire::FileOp::kStat: {
      struct ::stat st {};
      if (::lstat(req.path.c_str(), &st) < 0) co_return co_await finish_with(s, done_errno(errno, "stat " + req.path));
      if (!(co_await s.send_message(info_of(st))).ok()) co_return;
      co_return co_await finish_with(s, done_ok());
    }
    case wire::FileOp::kRead:
      co_return co_await read_file(s, req);
    case wire::FileOp::kWrite:
      co_return co_await write_file(s, req);
    case wire::FileOp::kList:
      co_return co_await finish_with(s, co_await list_dir(s, req.path));
    case wire::FileOp::kMkdir:
      co_return co_await finish_with(s, make_dir(req.path, req.mode, req.recursive));
    case wire::FileOp::kRemove:
      co_return co_await finish_with(s, remove_path(req.path, req.recursive));
    case wire::FileOp::kRename: {
      FileDone d = done_ok();
      if (::rename(req.path.c_str(), req.to.c_str()) < 0)
        d = done_errno(errno, "rename " + req.path + " -> " + req.to);
      co_return co_await finish_with(s, std::move(d));
    }
  }
}

}  // namespace hull::agent
