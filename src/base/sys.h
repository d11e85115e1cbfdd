// Thin syscall wrappers: each returns Result, retries EINTR, and names the
// operation and path in its error. Everything in hull calls these rather than
// libc directly where failure must be reported.
#pragma once

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "base/fd.h"
#include "base/result.h"

namespace hull::sys {

Result<UniqueFd> open(const std::string& path, int flags, mode_t mode = 0);
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS):
// for any path that came from a sandbox. Never follows a link out of `root`.
Result<UniqueFd> open_beneath(int root_fd, const std::string& rel, int flags, mode_t mode = 0);
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV): `rel`
// resolves as if root_fd were "/" (absolute symlinks and ".." included), so
// no name reaches a file outside it; for trees unpacked from someone else's
// archive, where a symlink means what it would mean inside. "" is the root.
Result<UniqueFd> open_in_root(int root_fd, const std::string& rel, int flags);
// openat2(RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS): for a host path the
// user named that may lie where a sandbox writes (a shared workspace).
// Absolute or relative to dir_fd (AT_FDCWD); ".." allowed; ELOOP on a symlink.
Result<UniqueFd> open_no_symlinks(int dir_fd, const std::string& path, int flags, mode_t mode = 0);
// openat(2), for one name in dir_fd.
Result<UniqueFd> open_at(int dir_fd, const std::string& name, int flags, mode_t mode = 0);

// `what` names the file in the error.
Result<struct ::stat> fstat(int fd, const std::string& what);
// fstatat(AT_SYMLINK_NOFOLLOW); Error::err is ENOENT when there is nothing.
Result<struct ::stat> lstat_at(int dir_fd, const std::string& name);
Result<struct ::statvfs> fstatvfs(int fd, const std::string& what);
Status fsync(int fd, const std::string& what);
Status mkdir_at(int dir_fd, const std::string& name, mode_t mode);
// renameat(2) within one directory: replaces `to` (a symlink there is replaced, not followed).
Status rename_at(int dir_fd, const std::string& from, const std::string& to);
Status unlink_at(int dir_fd, const std::string& name);
// SO_PEERCRED: who created the peer of a connected unix socket (for a
// listening server, as of its listen()).
Result<struct ::ucred> peer_credentials(int sock_fd);

struct FdPair {
  UniqueFd first;
  UniqueFd second;
};
Result<FdPair> pipe(int flags = O_CLOEXEC);
Result<FdPair> socketpair(int type = SOCK_STREAM | SOCK_CLOEXEC);

// Read up to buf.size() bytes; 0 means EOF.
Result<size_t> read_some(int fd, std::span<std::byte> buf);
// pread: up to buf.size() bytes at `offset`; the fd's own offset stays put.
Result<size_t> pread_some(int fd, std::span<std::byte> buf, uint64_t offset);
// Read exactly buf.size() bytes or fail ("unexpected EOF" is an Error).
Status read_exact(int fd, std::span<std::byte> buf);
Status write_all(int fd, std::span<const std::byte> buf);
Status write_all(int fd, std::string_view s);

Status mkdir_p(const std::string& path, mode_t mode = 0755);
Result<std::string> read_file(const std::string& path, size_t max_bytes = 16u << 20);
// temp file in the same dir + fsync + rename + fsync(dir): a crash leaves
// either the old or the new content, never a torn file.
Status write_file_atomic(const std::string& path, std::string_view content, mode_t mode = 0644);
Status remove_all(const std::string& path);
bool exists(const std::string& path);

Status set_cloexec(int fd, bool on);
Status set_nonblock(int fd, bool on);

}  // namespace hull::sys
