#include "image/project_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <climits>
#include <optional>

#include "base/fd.h"
#include "base/sys.h"

namespace hull::image {

namespace {

// Opens (creating as needed, 0755) directory `rel` of the root, resolving
// every symlink inside the root.
Result<UniqueFd> open_dir_in_root(int root_fd, const std::string& rel) {
  UniqueFd cur;
  {
    auto d = ::fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
    if (d < 0) return sys_error("dup rootfs fd");
    cur = UniqueFd(d);
  }
  std::string walked;
  size_t i = 0;
  while (i < rel.size()) {
    size_t j = rel.find('/', i);
    if (j == std::string::npos) j = rel.size();
    const std::string part = rel.substr(i, j - i);
    i = j + 1;
    if (part.empty() || part == ".") continue;
    walked += (walked.empty() ? "" : "/") + part;
    if (::mkdirat(cur.get(), part.c_str(), 0755) < 0 && errno != EEXIST) return sys_error("mkdir /" + walked);
    struct open_how how {};
    how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    // Resolve from the root each time so a symlink part is clamped to it.
    long fd = ::syscall(SYS_openat2, root_fd, walked.c_str(), &how, sizeof how);
    if (fd < 0) return sys_error("open /" + walked + " in the image", errno, "it must be a directory");
    cur = UniqueFd(static_cast<int>(fd));
  }
  return cur;
}

Status copy_tree(const std::string& src, int dst_dir, const std::string& name, const std::string& shown,
                 std::optional<uint32_t> mode, int depth);

Status copy_file_into(const std::string& src, const struct stat& st, int dst_dir, const std::string& name,
                      const std::string& shown, std::optional<uint32_t> mode) {
  HULL_ASSIGN(UniqueFd in, sys::open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  // Replace, never write through: whatever the image had there goes first.
  (void)::unlinkat(dst_dir, name.c_str(), 0);
  int out_raw = ::openat(dst_dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out_raw < 0) return sys_error("create " + shown, errno, "is a directory in the way?");
  UniqueFd out(out_raw);
  std::array<std::byte, 1 << 16> buf{};
  for (;;) {
    HULL_ASSIGN(size_t n, sys::read_some(in.get(), buf));
    if (n == 0) break;
    HULL_TRY(sys::write_all(out.get(), std::span<const std::byte>(buf.data(), n)));
  }
  if (::fchown(out.get(), 0, 0) < 0 && ::geteuid() == 0) return sys_error("chown " + shown);
  if (::fchmod(out.get(), mode.value_or(st.st_mode & 07777)) < 0) return sys_error("chmod " + shown);
  return ok_status();
}

Status copy_tree(const std::string& src, int dst_dir, const std::string& name, const std::string& shown,
                 std::optional<uint32_t> mode, int depth) {
  if (depth > 64) return make_error("copy " + src, "directories nest deeper than 64 levels");
  struct stat st {};
  if (::lstat(src.c_str(), &st) != 0) return sys_error("copy " + src, errno, "check [[image.files]] src");
  if (S_ISREG(st.st_mode)) return copy_file_into(src, st, dst_dir, name, shown, mode);
  if (S_ISLNK(st.st_mode)) {
    std::string target(PATH_MAX, '\0');
    ssize_t n = ::readlink(src.c_str(), target.data(), target.size());
    if (n < 0) return sys_error("readlink " + src);
    target.resize(static_cast<size_t>(n));
    (void)::unlinkat(dst_dir, name.c_str(), 0);
    if (::symlinkat(target.c_str(), dst_dir, name.c_str()) < 0) return sys_error("symlink " + shown);
    return ok_status();
  }
  if (!S_ISDIR(st.st_mode)) return make_error("copy " + src, "only files, directories and symlinks are copied");
  if (::mkdirat(dst_dir, name.c_str(), 0755) < 0 && errno != EEXIST) return sys_error("mkdir " + shown);
  HULL_ASSIGN(UniqueFd sub, sys::open_beneath(dst_dir, name, O_RDONLY | O_DIRECTORY));
  DIR* d = ::opendir(src.c_str());
  if (d == nullptr) return sys_error("read " + src);
  Status result = ok_status();
  while (dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    result = copy_tree(src + "/" + n, sub.get(), n, shown + "/" + n, std::nullopt, depth + 1);
    if (!result) break;
  }
  ::closedir(d);
  if (!result) return result;
  (void)::fchown(sub.get(), 0, 0);
  if (::fchmod(sub.get(), mode.value_or(st.st_mode & 07777)) < 0) return sys_error("chmod " + shown);
  return ok_status();
}

}  // namespace

ImageConfig config_of(const WorkloadSpec& spec) {
  const ImageSection& image = spec.image;
  ImageConfig c;
  for (const auto& [k, v] : image.env) c.env.emplace_back(k, v);
  c.cmd = image.cmd;
  c.workdir = image.workdir;
  c.user = image.user;
  c.health = spec.health;
  c.services = spec.services;
  return c;
}

Status copy_project_files(const std::string& project_dir, const std::vector<FileCopy>& files,
                          const std::string& rootfs) {
  HULL_ASSIGN(UniqueFd root, sys::open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  for (const auto& f : files) {
    // dst is absolute and normalised by the parser ("/app/x", never "..").
    const size_t slash = f.dst.rfind('/');
    const std::string parent = f.dst.substr(0, slash);
    const std::string base = f.dst.substr(slash + 1);
    if (base.empty()) return make_error("copy to " + f.dst, "the destination must name a file or directory");
    HULL_ASSIGN(UniqueFd dir, open_dir_in_root(root.get(), parent));
    HULL_TRY(copy_tree(project_dir + "/" + f.src, dir.get(), base, f.dst, f.mode, 0));
  }
  return ok_status();
}

}  // namespace hull::image
