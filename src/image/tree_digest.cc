#include "image/tree_digest.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <vector>

#include "base/digest.h"
#include "base/fd.h"
#include "base/sys.h"

namespace hull::image {

namespace {

// Paths are bytes; %-escape all but printable ASCII (and '%' itself) so
// every record is one unambiguous line.
std::string escaped(std::string_view p) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char ch : p) {
    auto c = static_cast<unsigned char>(ch);
    if (c > 0x20 && c < 0x7f && c != '%') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

// Sorted "name=sha256(value)" of the entry's xattrs, through the magic link
// /proc/self/fd/N of its O_PATH fd: that resolves to the entry itself (opened
// O_NOFOLLOW), never through a symlink in the tree. Not used for symlinks.
Result<std::string> xattrs_of(int fd, const std::string& shown) {
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  std::vector<char> names(4096);
  ssize_t n = ::listxattr(path.c_str(), names.data(), names.size());
  if (n < 0 && errno == ERANGE) {
    names.resize(64 * 1024);
    n = ::listxattr(path.c_str(), names.data(), names.size());
  }
  if (n < 0) {
    if (errno == ENOTSUP) return std::string();
    return sys_error("list xattrs of " + shown);
  }
  std::vector<std::string> list;
  for (ssize_t i = 0; i < n;) {
    std::string name(names.data() + i);
    i += static_cast<ssize_t>(name.size()) + 1;
    std::vector<char> value(64 * 1024);
    ssize_t v = ::getxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (v < 0) return sys_error("read xattr " + name + " of " + shown);
    list.push_back(escaped(name) + "=" + sha256_hex(std::string_view(value.data(), static_cast<size_t>(v))));
  }
  std::sort(list.begin(), list.end());
  std::string out;
  for (const auto& x : list) out += " x:" + x;
  return out;
}

Result<std::string> file_sha256(int dirfd, const std::string& name, const std::string& shown) {
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return sys_error("open " + shown);
  UniqueFd file(fd);
  Sha256 h;
  std::array<std::byte, 64 * 1024> buf{};
  for (;;) {
    HULL_ASSIGN(size_t got, sys::read_some(file.get(), buf));
    if (got == 0) break;
    h.update(std::string_view(reinterpret_cast<const char*>(buf.data()), got));
  }
  return h.hex();
}

class Walker {
 public:
  explicit Walker(std::string root) : root_(std::move(root)) {}

  Status walk(int dirfd, const std::string& rel) {
    // fdopendir takes ownership of its fd: hand it a dup.
    int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) return sys_error("dup");
    DIR* d = ::fdopendir(dup);
    if (d == nullptr) {
      ::close(dup);
      return sys_error("opendir " + shown(rel));
    }
    std::vector<std::string> names;
    errno = 0;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(std::move(n));
    }
    int read_errno = errno;
    ::closedir(d);
    if (read_errno != 0) return sys_error("readdir " + shown(rel), read_errno);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) HULL_TRY(entry(dirfd, rel.empty() ? n : rel + "/" + n, n));
    return ok_status();
  }

  Sha256& hash() { return hash_; }
  TreeDigest& stats() { return stats_; }

 private:
  std::string shown(const std::string& rel) const { return root_ + "/" + rel; }

  Status entry(int dirfd, const std::string& rel, const std::string& name) {
    int pfd = ::openat(dirfd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (pfd < 0) return sys_error("open " + shown(rel));
    UniqueFd at(pfd);
    struct stat st {};
    if (::fstat(at.get(), &st) != 0) return sys_error("stat " + shown(rel));
    std::string rec;
    const std::string head = " " + std::to_string(st.st_mode & 07777) + " " + std::to_string(st.st_uid) + " " +
                             std::to_string(st.st_gid) + " " + escaped(rel);
    HULL_ASSIGN(std::string xattrs, S_ISLNK(st.st_mode) ? Result<std::string>(std::string()) : xattrs_of(at.get(), shown(rel)));
    ++stats_.entries;
    if (S_ISREG(st.st_mode)) {
      HULL_ASSIGN(std::string sum, file_sha256(dirfd, name, shown(rel)));
      rec = "f" + head + " " + std::to_string(st.st_size) + " " + sum;
      ++stats_.files;
      stats_.bytes += static_cast<uint64_t>(st.st_size);
    } else if (S_ISDIR(st.st_mode)) {
      rec = "d" + head;
    } else if (S_ISLNK(st.st_mode)) {
      std::array<char, 4096> target{};
      ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
      if (n < 0) return sys_error("readlink " + shown(rel));
      rec = "l" + head + " " + escaped(std::string_view(target.data(), static_cast<size_t>(n)));
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      rec = std::string(S_ISCHR(st.st_mode) ? "c" : "b") + head + " " + std::to_string(major(st.st_rdev)) + ":" +
            std::to_string(minor(st.st_rdev));
    } else if (S_ISFIFO(st.st_mode)) {
      rec = "p" + head;
    } else {
      rec = "s" + head;  // socket
    }
    hash_.update(rec + xattrs + "\n");
    if (S_ISDIR(st.st_mode)) {
      int dfd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (dfd < 0) return sys_error("open directory " + shown(rel));
      UniqueFd dir(dfd);
      HULL_TRY(walk(dir.get(), rel));
    }
    return ok_status();
  }

  std::string root_;
  Sha256 hash_;
  TreeDigest stats_;
};

}  // namespace

Result<TreeDigest> tree_digest(const std::string& root) {
  HULL_ASSIGN(UniqueFd dir, sys::open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  Walker w(root);
  HULL_TRY(w.walk(dir.get(), ""));
  TreeDigest out = w.stats();
  out.digest = "sha256:" + w.hash().hex();
  return out;
}

}  // namespace hull::image
