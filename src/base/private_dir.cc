#include "base/private_dir.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "base/sys.h"

namespace hull {

namespace {

std::string octal_mode(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

// Empty when `st` may stand at this place of a private path, else why not.
std::string judge(const std::string& shown, const struct ::stat& st, bool last, uid_t owner) {
  if (S_ISLNK(st.st_mode)) return shown + " is a symlink (name the real directory instead)";
  if (!S_ISDIR(st.st_mode)) return shown + " is not a directory";
  const bool others_write = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
  if (last) {
    if (st.st_uid != owner)
      return shown + " is owned by uid " + std::to_string(st.st_uid) + ", not by you (uid " + std::to_string(owner) + ")";
    if (others_write) return shown + " is writable by others (mode " + octal_mode(st.st_mode) + ")";
    return {};
  }
  if (st.st_uid != owner && st.st_uid != 0)
    return shown + " is owned by uid " + std::to_string(st.st_uid) + ", not by you (uid " + std::to_string(owner) +
           ") or root";
  if (others_write && (st.st_mode & S_ISVTX) == 0)
    return shown + " is writable by others (mode " + octal_mode(st.st_mode) + ") without the sticky bit";
  return {};
}

}  // namespace

Result<UniqueFd> open_private_dir(const std::string& path, Missing missing, uid_t owner) {
  std::error_code ec;
  // getcwd() has no symlinks in it, and neither may the rest: lexical ".."
  // is then what the kernel would resolve.
  std::filesystem::path abs = std::filesystem::absolute(path, ec).lexically_normal();
  if (ec) return sys_error("resolve " + path, ec.value());
  std::vector<std::string> parts;
  for (const auto& c : abs.relative_path())
    if (!c.empty() && c != ".") parts.push_back(c.string());

  HULL_ASSIGN(UniqueFd dir, sys::open("/", O_PATH | O_DIRECTORY));
  std::string shown;
  for (size_t i = 0; i <= parts.size(); ++i) {
    if (i > 0) {
      shown += "/" + parts[i - 1];
      auto next = sys::open_at(dir.get(), parts[i - 1], O_PATH | O_NOFOLLOW);
      if (!next && next.error().err == ENOENT && missing == Missing::kCreate) {
        auto made = sys::mkdir_at(dir.get(), parts[i - 1], 0700);
        if (!made && made.error().err != EEXIST) return sys_error("mkdir " + shown, made.error().err);
        next = sys::open_at(dir.get(), parts[i - 1], O_PATH | O_NOFOLLOW);
      }
      if (!next) return sys_error("open " + shown, next.error().err);
      dir = std::move(*next);
    }
    HULL_ASSIGN(struct ::stat st, sys::fstat(dir.get(), shown.empty() ? "/" : shown));
    if (auto why = judge(shown.empty() ? "/" : shown, st, i == parts.size(), owner); !why.empty())
      return make_error(why);
  }
  return dir;
}

}  // namespace hull
