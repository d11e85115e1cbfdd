#include "image/oci_layers.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/sys.h"

namespace hull::image {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kWhiteoutMetaPrefix = ".wh..wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
// Tree walks recurse; symlinked parents let a layer build trees deeper than
// PATH_MAX allows, so bound the depth (and the stack and fds it costs).
constexpr int kMaxDepth = 4096;

// Entry names are untrusted bytes: quote them escaped and cut short in errors.
std::string printable(std::string_view raw) {
  std::string out = "\"";
  for (unsigned char c : raw.substr(0, 200)) {
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
      out += static_cast<char>(c);
    } else {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    }
  }
  return out + (raw.size() > 200 ? "\"..." : "\"");
}

// A normalised entry name: no "", "." or ".." components; parts.empty() is
// the root itself.
struct EntryPath {
  std::vector<std::string> parts;
  std::string joined;  // "a/b/c"

  const std::string& leaf() const { return parts.back(); }
  std::string parent() const {
    return joined.substr(0, joined.size() - std::min(joined.size(), leaf().size() + 1));
  }
};

std::string join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

// Names resolve with sys::open_in_root (RESOLVE_IN_ROOT): every symlink,
// absolute ones and ".." too, as if the root were "/", so no name reaches a
// file outside it; magic links and mount crossings are refused.
using sys::open_in_root;

// A directory `name` directly in `dir`: no symlink, no mount crossing (the
// tree removal below must stay on the root's filesystem).
Result<UniqueFd> open_child_dir(int dir, const std::string& name) {
  struct open_how how {};
  how.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  for (;;) {
    long fd = ::syscall(SYS_openat2, dir, name.c_str(), &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    if (errno != EINTR && errno != EAGAIN) return sys_error("open " + name, errno);
  }
}

struct Meta {
  mode_t mode = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  timespec times[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};  // atime, mtime
};

std::string archive_why(archive* a) {
  const char* s = archive_error_string(a);
  return s != nullptr ? s : "malformed archive";
}

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

class LayerApplier {
 public:
  LayerApplier(int root, LayerBudget& budget) : root_(root), budget_(budget) {}

  Result<LayerStats> run(int layer_fd);

 private:
  Status apply_entry(archive* a, archive_entry* e);
  Status apply_whiteout(const EntryPath& p);
  Status apply_dir(const EntryPath& p, const Meta& m);
  Status apply_file(archive* a, const EntryPath& p, const Meta& m, uint64_t size);
  Status apply_symlink(const EntryPath& p, const char* target, const Meta& m);
  Status apply_hardlink(const EntryPath& p, const char* target);
  Status finish_dirs();

  Result<EntryPath> normalise(std::string_view raw, const char* what);
  Result<Meta> meta_of(archive_entry* e);
  Status set_meta(int fd, const Meta& m);
  Result<UniqueFd> parent_dir(const EntryPath& p);
  Result<std::vector<std::string>> list_dir(int dir);
  Status remove_at(int dir, const std::string& name, int depth = 0);
  Status make_opaque(int dir, const std::string& key, int depth = 0);

  Error bad(const std::string& why) const { return make_error("layer entry " + cur_, why); }
  Error sys(const std::string& what, int err = errno) const {
    return sys_error("layer entry " + cur_ + ": " + what, err);
  }

  int root_;
  LayerBudget& budget_;  // the image's, shared with its other layers
  LayerStats stats_;
  bool as_root_ = ::geteuid() == 0;
  std::string cur_;  // the current entry's name, printable
  // Names this layer has written: an opaque marker or whiteout removes only
  // what lower layers left (spec: whiteouts never hide their own layer).
  std::unordered_set<std::string> written_;
  // Directory metadata, applied after the last entry (children change mtimes).
  std::vector<std::pair<std::string, Meta>> dirs_;
  std::unordered_map<std::string, size_t> dir_index_;
};

Result<EntryPath> LayerApplier::normalise(std::string_view raw, const char* what) {
  if (raw.size() >= PATH_MAX) return bad(std::string(what) + " is longer than PATH_MAX");
  EntryPath p;
  size_t i = 0;
  while (i <= raw.size()) {
    size_t end = std::min(raw.find('/', i), raw.size());
    std::string_view c = raw.substr(i, end - i);
    i = end + 1;
    // A leading "/" is just an empty first component: names are root-relative.
    if (c.empty() || c == ".") continue;
    if (c == "..") return bad(std::string(what) + " has a \"..\" component");
    if (c.size() > NAME_MAX) return bad(std::string(what) + " has a component over NAME_MAX");
    p.parts.emplace_back(c);
    p.joined = join(p.joined, p.parts.back());
  }
  return p;
}

Result<Meta> LayerApplier::meta_of(archive_entry* e) {
  Meta m;
  m.mode = archive_entry_perm(e) & 07777;
  int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
  // (uid_t)-1 would mean "leave unchanged" to chown.
  if (uid < 0 || uid >= UINT32_MAX || gid < 0 || gid >= UINT32_MAX)
    return bad("uid/gid out of range");
  m.uid = static_cast<uid_t>(uid);
  m.gid = static_cast<gid_t>(gid);
  auto ts = [](time_t s, long ns) { return timespec{s, ns >= 0 && ns < 1'000'000'000 ? ns : 0}; };
  if (archive_entry_mtime_is_set(e))
    m.times[1] = ts(archive_entry_mtime(e), archive_entry_mtime_nsec(e));
  m.times[0] = archive_entry_atime_is_set(e)
                   ? ts(archive_entry_atime(e), archive_entry_atime_nsec(e))
                   : m.times[1];
  return m;
}

// Owner first: chown clears setuid/setgid, chmod puts them back.
Status LayerApplier::set_meta(int fd, const Meta& m) {
  if (as_root_ && ::fchown(fd, m.uid, m.gid) < 0) return sys("chown");
  if (::fchmod(fd, m.mode) < 0) return sys("chmod");
  if (::futimens(fd, m.times) < 0) return sys("set times");
  return ok_status();
}

// The entry's parent directory, resolved in the root; missing directories on
// the way are created 0755. Only single names are ever created, under a
// directory already opened inside the root.
Result<UniqueFd> LayerApplier::parent_dir(const EntryPath& p) {
  auto full = open_in_root(root_, p.parent(), O_RDONLY | O_DIRECTORY);
  if (full.ok()) return full;
  if (full.error().err != ENOENT) return sys("open parent", full.error().err);
  HULL_ASSIGN(UniqueFd dir, open_in_root(root_, "", O_RDONLY | O_DIRECTORY));
  std::string prefix;
  for (size_t i = 0; i + 1 < p.parts.size(); ++i) {
    const std::string& c = p.parts[i];
    prefix = join(prefix, c);
    auto next = open_in_root(root_, prefix, O_RDONLY | O_DIRECTORY);
    if (!next.ok() && next.error().err == ENOENT) {
      struct stat st {};
      if (::fstatat(dir.get(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
        return bad("parent /" + prefix + " is a symlink to a missing directory");
      if (::mkdirat(dir.get(), c.c_str(), 0755) < 0) return sys("mkdir /" + prefix);
      written_.insert(prefix);
      next = open_in_root(root_, prefix, O_RDONLY | O_DIRECTORY);
    }
    if (!next.ok()) return sys("open /" + prefix, next.error().err);
    dir = std::move(next.value());
  }
  return dir;
}

Result<std::vector<std::string>> LayerApplier::list_dir(int dir) {
  int fd = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys("open directory");
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    int e = errno;
    ::close(fd);
    return sys("fdopendir", e);
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* de = ::readdir(d)) {
    std::string_view n = de->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  int e = errno;
  ::closedir(d);
  if (e != 0) return sys("readdir", e);
  return names;
}

// Removes dir/name, a whole tree for a directory, never following a symlink.
Status LayerApplier::remove_at(int dir, const std::string& name, int depth) {
  if (depth > kMaxDepth) return bad("directory tree too deep to remove");
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? ok_status() : sys("stat " + name);
  if (S_ISDIR(st.st_mode)) {
    auto sub = open_child_dir(dir, name);
    if (!sub.ok()) return sys("open " + name, sub.error().err);
    HULL_ASSIGN(auto names, list_dir(sub->get()));
    for (const auto& n : names) HULL_TRY(remove_at(sub->get(), n, depth + 1));
  }
  if (::unlinkat(dir, name.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
    return sys("remove " + name);
  return ok_status();
}

// Removes everything under `dir` (named `key` in the layer) that this layer
// has not written, descending into the directories it has.
Status LayerApplier::make_opaque(int dir, const std::string& key, int depth) {
  if (depth > kMaxDepth) return bad("directory tree too deep to make opaque");
  HULL_ASSIGN(auto names, list_dir(dir));
  for (const auto& n : names) {
    std::string k = join(key, n);
    if (!written_.contains(k)) {
      HULL_TRY(remove_at(dir, n, depth + 1));
      continue;
    }
    struct stat st {};
    if (::fstatat(dir, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return sys("stat " + k);
    if (!S_ISDIR(st.st_mode)) continue;
    auto sub = open_child_dir(dir, n);
    if (!sub.ok()) return sys("open " + k, sub.error().err);
    HULL_TRY(make_opaque(sub->get(), k, depth + 1));
  }
  return ok_status();
}

Status LayerApplier::apply_whiteout(const EntryPath& p) {
  const std::string& leaf = p.leaf();
  bool opaque = leaf == kOpaqueMarker;
  if (!opaque && leaf.starts_with(kWhiteoutMetaPrefix)) {  // aufs metadata
    ++stats_.skipped;
    return ok_status();
  }
  std::string name = leaf.substr(kWhiteoutPrefix.size());
  if (!opaque && (name.empty() || name == "." || name == ".."))
    return bad("whiteout names no file in its directory");
  ++stats_.whiteouts;
  if (!opaque && written_.contains(join(p.parent(), name))) return ok_status();
  auto dir = open_in_root(root_, p.parent(), O_RDONLY | O_DIRECTORY);
  if (!dir.ok()) {
    int e = dir.error().err;  // nothing below to hide
    return e == ENOENT || e == ENOTDIR ? ok_status() : sys("open parent", e);
  }
  return opaque ? make_opaque(dir->get(), p.parent()) : remove_at(dir->get(), name);
}

Status LayerApplier::apply_dir(const EntryPath& p, const Meta& m) {
  written_.insert(p.joined);
  if (!p.parts.empty()) {
    HULL_ASSIGN(UniqueFd parent, parent_dir(p));
    struct stat st {};
    int r = ::fstatat(parent.get(), p.leaf().c_str(), &st, AT_SYMLINK_NOFOLLOW);
    if (r < 0 && errno != ENOENT) return sys("stat");
    if (r == 0 && !S_ISDIR(st.st_mode)) HULL_TRY(remove_at(parent.get(), p.leaf()));
    if ((r < 0 || !S_ISDIR(st.st_mode)) && ::mkdirat(parent.get(), p.leaf().c_str(), 0700) < 0)
      return sys("mkdir");
  }
  auto [it, fresh] = dir_index_.try_emplace(p.joined, dirs_.size());
  if (fresh)
    dirs_.emplace_back(p.joined, m);
  else
    dirs_[it->second].second = m;
  return ok_status();
}

Status LayerApplier::apply_file(archive* a, const EntryPath& p, const Meta& m, uint64_t size) {
  HULL_ASSIGN(UniqueFd parent, parent_dir(p));
  // Always a fresh inode: writing into an existing file could write through
  // a hard link shared with another name.
  HULL_TRY(remove_at(parent.get(), p.leaf()));
  UniqueFd f(::openat(parent.get(), p.leaf().c_str(),
                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!f) return sys("create");
  written_.insert(p.joined);
  uint64_t got = 0;
  for (;;) {
    const void* buf = nullptr;
    size_t len = 0;
    la_int64_t off = 0;
    int r = archive_read_data_block(a, &buf, &len, &off);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return bad(archive_why(a));
    got += len;
    if (off < 0 || got > size || static_cast<uint64_t>(off) + len > size)
      return bad("data runs past the declared size");
    for (size_t done = 0; done < len;) {
      ssize_t n = ::pwrite(f.get(), static_cast<const char*>(buf) + done, len - done, off + done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys("write");
      done += static_cast<size_t>(n);
    }
  }
  if (::ftruncate(f.get(), static_cast<off_t>(size)) < 0) return sys("truncate");  // sparse tail
  return set_meta(f.get(), m);
}

Status LayerApplier::apply_symlink(const EntryPath& p, const char* target, const Meta& m) {
  // The target is stored, not followed: later names resolve it in the root.
  if (target == nullptr || *target == '\0') return bad("symlink without a target");
  if (std::string_view(target).size() >= PATH_MAX) return bad("symlink target over PATH_MAX");
  HULL_ASSIGN(UniqueFd parent, parent_dir(p));
  HULL_TRY(remove_at(parent.get(), p.leaf()));
  const char* leaf = p.leaf().c_str();
  if (::symlinkat(target, parent.get(), leaf) < 0) return sys("symlink");
  written_.insert(p.joined);
  if (as_root_ && ::fchownat(parent.get(), leaf, m.uid, m.gid, AT_SYMLINK_NOFOLLOW) < 0)
    return sys("chown");
  if (::utimensat(parent.get(), leaf, m.times, AT_SYMLINK_NOFOLLOW) < 0) return sys("set times");
  return ok_status();
}

Status LayerApplier::apply_hardlink(const EntryPath& p, const char* target) {
  HULL_ASSIGN(EntryPath t, normalise(target, "hard link target"));
  if (t.parts.empty()) return bad("hard link to the root");
  if (t.joined == p.joined) return ok_status();
  auto tdir = open_in_root(root_, t.parent(), O_RDONLY | O_DIRECTORY);
  struct stat st {};
  if (!tdir.ok() || ::fstatat(tdir->get(), t.leaf().c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
    return bad("hard link target /" + t.joined + " is not in the root (yet)");
  if (S_ISDIR(st.st_mode)) return bad("hard link to a directory");
  HULL_ASSIGN(UniqueFd parent, parent_dir(p));
  HULL_TRY(remove_at(parent.get(), p.leaf()));
  // No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself.
  if (::linkat(tdir->get(), t.leaf().c_str(), parent.get(), p.leaf().c_str(), 0) < 0)
    return sys("link to /" + t.joined);
  written_.insert(p.joined);
  return ok_status();
}

Status LayerApplier::finish_dirs() {
  for (const auto& [path, m] : dirs_) {
    cur_ = printable(path.empty() ? "." : path);
    auto fd = open_in_root(root_, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!fd.ok()) {
      int e = fd.error().err;  // replaced or removed later in this layer
      if (e == ENOENT || e == ENOTDIR || e == ELOOP) continue;
      return sys("open", e);
    }
    HULL_TRY(set_meta(fd->get(), m));
  }
  return ok_status();
}

Status LayerApplier::apply_entry(archive* a, archive_entry* e) {
  const char* raw = archive_entry_pathname(e);
  if (raw == nullptr) return make_error("layer entry", "has no name");
  cur_ = printable(raw);
  const LayerLimits& limits = budget_.limits;
  ++stats_.entries;
  if (++budget_.entries > limits.max_entries)
    return bad("the image's layers hold more than " + std::to_string(limits.max_entries) +
               " entries in all");
  budget_.name_bytes += std::string_view(raw).size();
  if (budget_.name_bytes > limits.max_name_bytes)
    return bad("the image's entry names exceed " + std::to_string(limits.max_name_bytes) +
               " bytes in all");
  int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
  if (size < 0) return bad("negative size");
  if (static_cast<uint64_t>(size) > limits.max_bytes - std::min(budget_.bytes, limits.max_bytes))
    return bad("the image's layer data exceeds the limit of " + std::to_string(limits.max_bytes) +
               " bytes");
  budget_.bytes += static_cast<uint64_t>(size);
  stats_.bytes += static_cast<uint64_t>(size);

  HULL_ASSIGN(EntryPath p, normalise(raw, "name"));
  if (!p.parts.empty() && p.leaf().starts_with(kWhiteoutPrefix)) return apply_whiteout(p);
  unsigned type = archive_entry_filetype(e);
  const char* link = archive_entry_hardlink(e);
  if (p.parts.empty() && (type != AE_IFDIR || link != nullptr))
    return bad("names the root but is not a directory");
  if (link != nullptr) return apply_hardlink(p, link);
  switch (type) {
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
    case AE_IFSOCK:
      ++stats_.skipped;  // never mknod from an untrusted image
      return ok_status();
    case AE_IFDIR:
    case AE_IFREG:
    case AE_IFLNK:
      break;
    default:
      return bad("unsupported entry type");
  }
  HULL_ASSIGN(Meta m, meta_of(e));
  if (type == AE_IFDIR) return apply_dir(p, m);
  if (type == AE_IFLNK) return apply_symlink(p, archive_entry_symlink(e), m);
  return apply_file(a, p, m, static_cast<uint64_t>(size));
}

Result<LayerStats> LayerApplier::run(int layer_fd) {
  std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
  if (!a) return make_error("read layer", "out of memory");
  // Only the OCI compressions, and only built in: other filters may run an
  // external decompressor program on untrusted input.
  if (archive_read_support_filter_gzip(a.get()) != ARCHIVE_OK ||
      archive_read_support_filter_zstd(a.get()) != ARCHIVE_OK)
    return make_error("read layer", "libarchive lacks built-in gzip or zstd");
  if (archive_read_support_format_tar(a.get()) != ARCHIVE_OK ||
      archive_read_open_fd(a.get(), layer_fd, 1 << 16) != ARCHIVE_OK)
    return make_error("read layer", archive_why(a.get()));
  for (;;) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return make_error("read layer", archive_why(a.get()));
    HULL_TRY(apply_entry(a.get(), e));
  }
  HULL_TRY(finish_dirs());
  return stats_;
}

}  // namespace

Result<LayerStats> apply_layer_fd(const UniqueFd& root_dir, const UniqueFd& layer,
                                  LayerBudget& budget) {
  return LayerApplier(root_dir.get(), budget).run(layer.get());
}

Result<LayerStats> apply_layer(const std::string& root_dir, const std::string& layer_path,
                               const LayerLimits& limits) {
  UniqueFd root(::open(root_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return sys_error("open " + root_dir);
  UniqueFd layer(::open(layer_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!layer) return sys_error("open " + layer_path);
  LayerBudget budget{limits};
  auto r = apply_layer_fd(root, layer, budget);
  if (!r.ok()) {
    Error e = r.error();
    e.op = "apply layer " + layer_path + ": " + e.op;
    return e;
  }
  return r;
}

}  // namespace hull::image
