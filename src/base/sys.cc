#include "base/sys.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace hull::sys {

template <class F>
static auto retry_eintr(F f) {
  decltype(f()) r;
  do {
    r = f();
  } while (r < 0 && errno == EINTR);
  return r;
}

Result<UniqueFd> open(const std::string& path, int flags, mode_t mode) {
  int fd = retry_eintr([&] { return ::open(path.c_str(), flags | O_CLOEXEC, mode); });
  if (fd < 0) return sys_error("open " + path);
  return UniqueFd(fd);
}

Result<UniqueFd> open_beneath(int root_fd, const std::string& rel, int flags, mode_t mode) {
  struct open_how how {};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) != 0 ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = retry_eintr([&] { return ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how); });
  if (fd < 0) return sys_error("open " + rel, errno, "path must stay beneath its root without symlinks");
  return UniqueFd(static_cast<int>(fd));
}

Result<UniqueFd> open_in_root(int root_fd, const std::string& rel, int flags) {
  struct open_how how {};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  const char* p = rel.empty() ? "." : rel.c_str();
  for (int attempt = 0;; ++attempt) {
    long fd = ::syscall(SYS_openat2, root_fd, p, &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    // EAGAIN: a concurrent rename made the kernel unsure ".." stayed inside.
    if (errno == EINTR || (errno == EAGAIN && attempt < 16)) continue;
    return sys_error("open /" + rel, errno);
  }
}

Result<UniqueFd> open_no_symlinks(int dir_fd, const std::string& path, int flags, mode_t mode) {
  struct open_how how {};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) != 0 ? mode : 0;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = retry_eintr([&] { return ::syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how); });
  if (fd < 0) return sys_error("open " + path);
  return UniqueFd(static_cast<int>(fd));
}

Result<UniqueFd> open_at(int dir_fd, const std::string& name, int flags, mode_t mode) {
  int fd = retry_eintr([&] { return ::openat(dir_fd, name.c_str(), flags | O_CLOEXEC, mode); });
  if (fd < 0) return sys_error("open " + name);
  return UniqueFd(fd);
}

Result<struct ::stat> fstat(int fd, const std::string& what) {
  struct ::stat st {};
  if (::fstat(fd, &st) < 0) return sys_error("stat " + what);
  return st;
}

Result<struct ::stat> lstat_at(int dir_fd, const std::string& name) {
  struct ::stat st {};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return sys_error("stat " + name);
  return st;
}

Result<struct ::statvfs> fstatvfs(int fd, const std::string& what) {
  struct ::statvfs st {};
  if (retry_eintr([&] { return ::fstatvfs(fd, &st); }) < 0) return sys_error("statvfs " + what);
  return st;
}

Status fsync(int fd, const std::string& what) {
  if (retry_eintr([&] { return ::fsync(fd); }) < 0) return sys_error("fsync " + what);
  return ok_status();
}

Status mkdir_at(int dir_fd, const std::string& name, mode_t mode) {
  if (::mkdirat(dir_fd, name.c_str(), mode) < 0) return sys_error("mkdir " + name);
  return ok_status();
}

Status rename_at(int dir_fd, const std::string& from, const std::string& to) {
  if (::renameat(dir_fd, from.c_str(), dir_fd, to.c_str()) < 0) return sys_error("rename " + from + " -> " + to);
  return ok_status();
}

Status unlink_at(int dir_fd, const std::string& name) {
  if (::unlinkat(dir_fd, name.c_str(), 0) < 0) return sys_error("unlink " + name);
  return ok_status();
}

Result<struct ::ucred> peer_credentials(int sock_fd) {
  struct ::ucred cred {};
  socklen_t len = sizeof cred;
  if (::getsockopt(sock_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return sys_error("getsockopt SO_PEERCRED");
  return cred;
}

Result<FdPair> pipe(int flags) {
  int p[2];
  if (::pipe2(p, flags) < 0) return sys_error("pipe2");
  return FdPair{UniqueFd(p[0]), UniqueFd(p[1])};
}

Result<FdPair> socketpair(int type) {
  int p[2];
  if (::socketpair(AF_UNIX, type, 0, p) < 0) return sys_error("socketpair");
  return FdPair{UniqueFd(p[0]), UniqueFd(p[1])};
}

Result<size_t> read_some(int fd, std::span<std::byte> buf) {
  ssize_t n = retry_eintr([&] { return ::read(fd, buf.data(), buf.size()); });
  if (n < 0) return sys_error("read");
  return static_cast<size_t>(n);
}

Result<size_t> pread_some(int fd, std::span<std::byte> buf, uint64_t offset) {
  ssize_t n =
      retry_eintr([&] { return ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(offset)); });
  if (n < 0) return sys_error("read");
  return static_cast<size_t>(n);
}

Status read_exact(int fd, std::span<std::byte> buf) {
  size_t got = 0;
  while (got < buf.size()) {
    HULL_ASSIGN(size_t n, read_some(fd, buf.subspan(got)));
    if (n == 0) return make_error("read", "unexpected end of stream");
    got += n;
  }
  return ok_status();
}

Status write_all(int fd, std::span<const std::byte> buf) {
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = retry_eintr([&] { return ::write(fd, buf.data() + done, buf.size() - done); });
    if (n < 0) return sys_error("write");
    done += static_cast<size_t>(n);
  }
  return ok_status();
}

Status write_all(int fd, std::string_view s) {
  return write_all(fd, std::as_bytes(std::span(s.data(), s.size())));
}

Status mkdir_p(const std::string& path, mode_t mode) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return sys_error("mkdir " + path, ec.value());
  if (::chmod(path.c_str(), mode) < 0) return sys_error("chmod " + path);
  return ok_status();
}

Result<std::string> read_file(const std::string& path, size_t max_bytes) {
  HULL_ASSIGN(UniqueFd fd, open(path, O_RDONLY));
  std::string out;
  std::byte buf[8192];
  for (;;) {
    HULL_ASSIGN(size_t n, read_some(fd.get(), buf));
    if (n == 0) break;
    if (out.size() + n > max_bytes) return make_error("read " + path, "file larger than limit");
    out.append(reinterpret_cast<const char*>(buf), n);
  }
  return out;
}

Status write_file_atomic(const std::string& path, std::string_view content, mode_t mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    HULL_ASSIGN(UniqueFd fd, open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode));
    HULL_TRY(write_all(fd.get(), content));
    if (::fsync(fd.get()) < 0) return sys_error("fsync " + tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return sys_error("rename " + tmp + " -> " + path, e);
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  auto dfd = open(dir, O_RDONLY | O_DIRECTORY);
  if (dfd.ok()) ::fsync(dfd->get());
  return ok_status();
}

Status remove_all(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return sys_error("remove " + path, ec.value());
  return ok_status();
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

Status set_cloexec(int fd, bool on) {
  int f = ::fcntl(fd, F_GETFD);
  if (f < 0) return sys_error("fcntl F_GETFD");
  f = on ? (f | FD_CLOEXEC) : (f & ~FD_CLOEXEC);
  if (::fcntl(fd, F_SETFD, f) < 0) return sys_error("fcntl F_SETFD");
  return ok_status();
}

Status set_nonblock(int fd, bool on) {
  int f = ::fcntl(fd, F_GETFL);
  if (f < 0) return sys_error("fcntl F_GETFL");
  f = on ? (f | O_NONBLOCK) : (f & ~O_NONBLOCK);
  if (::fcntl(fd, F_SETFL, f) < 0) return sys_error("fcntl F_SETFL");
  return ok_status();
}

}  // namespace hull::sys
