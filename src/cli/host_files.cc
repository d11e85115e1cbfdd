#include "cli/host_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <random>

#include "base/sys.h"

namespace hull::cli {

namespace {

const char* const kNoSymlinks =
    "hull cp never follows a symlink on the host: a sandbox sharing the directory could have planted it";

// DST's directory (or DST itself), reached without a single symlink.
Result<UniqueFd> open_target_dir(int at, const std::string& path, const std::string& dst) {
  auto fd = sys::open_no_symlinks(at, path, O_RDONLY | O_DIRECTORY);
  if (fd) return fd;
  const int err = fd.error().err;
  if (err == ELOOP)
    return make_error("refusing to write " + dst + ": " + path + " is or goes through a symlink",
                      std::string(kNoSymlinks) + "; name the real directory, e.g. $(realpath " + path + ")");
  if (err == ENOENT || err == ENOTDIR) return sys_error("write " + dst, err, "the directory " + path + " does not exist");
  return sys_error("open " + path, err);
}

std::string random_suffix() {
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::string s(8, 'x');
  for (auto& c : s) c = kAlphabet[rd() % (sizeof kAlphabet - 1)];
  return s;
}

}  // namespace

Result<UploadSource> open_upload_source(const std::string& path) {
  // O_NONBLOCK: a FIFO (the sandbox can make one) must not hang the open.
  auto fd = sys::open_no_symlinks(AT_FDCWD, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
  if (!fd && fd.error().err == ELOOP)
    return make_error("refusing to read " + path + ": it is or goes through a symlink",
                      std::string(kNoSymlinks) + " to make you send it a host file; name the real file, e.g. $(realpath " +
                          path + ")");
  if (!fd) return fd.error();
  HULL_ASSIGN(struct ::stat st, sys::fstat(fd->get(), path));
  if (S_ISDIR(st.st_mode)) return make_error("copying directories is not supported yet", "copy the files one by one");
  if (!S_ISREG(st.st_mode))
    return make_error(path + " is not a regular file", "send anything else through stdin: ... | hull cp - NAME:/path");
  return UploadSource{std::move(*fd), st.st_mode & 0777};
}

uint64_t free_space_floor(uint64_t filesystem_bytes) { return std::min(filesystem_bytes / 20, uint64_t{1} << 30); }

Result<HostDownload> HostDownload::prepare(const std::string& dst, const std::string& src_name) {
  namespace fs = std::filesystem;
  const fs::path p(dst);
  std::string name = p.filename().string();
  bool into_dir = dst.ends_with('/') || name.empty() || name == "." || name == "..";
  std::string dir_path = into_dir ? dst : p.parent_path().string();
  if (dir_path.empty()) dir_path = ".";
  HULL_ASSIGN(UniqueFd dir, open_target_dir(AT_FDCWD, dir_path, dst));
  if (!into_dir) {
    // Never stat(dst): it would follow a symlink the sandbox put there.
    auto st = sys::lstat_at(dir.get(), name);
    if (st && S_ISDIR(st->st_mode)) {
      HULL_ASSIGN(dir, open_target_dir(dir.get(), name, dst));
      into_dir = true;
    } else if (!st && st.error().err != ENOENT) {
      return sys_error("stat " + dst, st.error().err);
    }
  }
  if (!into_dir) return HostDownload(std::move(dir), name, dst);
  if (src_name.empty() || src_name == "." || src_name == "..")
    return make_error("destination " + dst + " is a directory", "name the file to write");
  return HostDownload(std::move(dir), src_name, (dst.ends_with('/') ? dst : dst + "/") + src_name);
}

HostDownload::HostDownload(HostDownload&& o) noexcept
    : dir_(std::move(o.dir_)),
      name_(std::move(o.name_)),
      shown_(std::move(o.shown_)),
      temp_(std::exchange(o.temp_, {})),
      file_(std::move(o.file_)) {}

HostDownload::~HostDownload() {
  if (!temp_.empty()) (void)sys::unlink_at(dir_.get(), temp_);
}

Status HostDownload::begin(uint64_t size, uint32_t mode) {
  HULL_ASSIGN(struct ::statvfs vfs, sys::fstatvfs(dir_.get(), shown_));
  const uint64_t total = uint64_t{vfs.f_blocks} * vfs.f_frsize, avail = uint64_t{vfs.f_bavail} * vfs.f_frsize;
  // A filesystem that reports no size (some network or FUSE ones) cannot be judged.
  if (total > 0) {
    const uint64_t floor = free_space_floor(total);
    if (size > avail || avail - size < floor)
      return make_error("refusing to copy " + std::to_string(size) + " bytes to " + shown_ + ": its filesystem has " +
                            std::to_string(avail) + " bytes free, and hull cp leaves at least " +
                            std::to_string(floor) + " free (5% of it, at most 1 GiB)",
                        "free some space there, or copy to another filesystem");
  }
  // The sandbox's mode bits, never its setuid/setgid/sticky; O_CREAT applies the umask.
  const mode_t m = (mode & 0777) != 0 ? mode & 0777 : 0644;
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::string temp = ".hull-cp-" + random_suffix();
    auto fd = sys::open_at(dir_.get(), temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, m);
    if (fd) {
      temp_ = std::move(temp);
      file_ = std::move(*fd);
      return ok_status();
    }
    if (fd.error().err != EEXIST) return sys_error("create a temp file next to " + shown_, fd.error().err);
  }
  return make_error("create a temp file next to " + shown_, "16 random names were taken; remove stale .hull-cp-* files");
}

Status HostDownload::write(std::span<const std::byte> bytes) {
  auto st = sys::write_all(file_.get(), bytes);
  if (!st) return sys_error("write " + shown_, st.error().err);
  return ok_status();
}

Status HostDownload::commit() {
  HULL_TRY(sys::fsync(file_.get(), shown_));
  // The sandbox may rename in this directory too: install our own inode or nothing.
  HULL_ASSIGN(struct ::stat mine, sys::fstat(file_.get(), shown_));
  auto there = sys::lstat_at(dir_.get(), temp_);
  if (!there || there->st_dev != mine.st_dev || there->st_ino != mine.st_ino)
    return make_error("write " + shown_, "its temp file " + temp_ + " was moved while it was written; nothing was installed");
  if (auto st = sys::rename_at(dir_.get(), temp_, name_); !st)
    return sys_error("rename " + temp_ + " to " + shown_, st.error().err);
  temp_.clear();
  (void)sys::fsync(dir_.get(), shown_);  // the rename's durability; the file is complete either way
  return ok_status();
}

}  // namespace hull::cli
