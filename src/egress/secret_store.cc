#include "egress/secret_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>

#include "base/fd.h"
#include "base/paths.h"
#include "base/private_dir.h"
#include "base/sys.h"

namespace hull::egress {

namespace {

std::string octal_mode(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

Error no_such_secret(std::string_view name) {
  // "hull: secret 'x': ENOENT (No such file or directory) — hull secret ls ..."
  return sys_error("secret '" + std::string(name) + "'", ENOENT,
                   "hull secret ls lists them; hull secret set " + std::string(name) + " adds it");
}

// The store's directory as an O_PATH fd, after checking that nobody but us
// can reach into it. ENOENT (Error::err) when it is missing and `missing`
// says not to create it.
Result<UniqueFd> open_store_dir(const std::string& dir, Missing missing) {
  auto fd = open_private_dir(dir, missing);
  if (!fd) {
    if (fd.error().err == ENOENT) return fd.error();
    return make_error(
        "secret store " + dir + " is not safe: " + fd.error().message(),
        "it and the directories above it must be yours (or root's) and writable by no one else");
  }
  HULL_ASSIGN(struct ::stat st, sys::fstat(fd->get(), dir));
  // open_private_dir only refuses write access for others; secrets also
  // must not be listed or read by them.
  if ((st.st_mode & 077) != 0)
    return make_error(
        "secret store " + dir + " is open to group or others (mode " + octal_mode(st.st_mode) + ")",
        "chmod 700 " + dir);
  return std::move(*fd);
}

// A real (not O_PATH) fd of the directory, for fsync and readdir.
Result<UniqueFd> reopen_dir(int path_fd) {
  return sys::open_at(path_fd, ".", O_RDONLY | O_DIRECTORY);
}

void sync_dir(int path_fd, const std::string& dir) {
  // The rename is done; a failed directory fsync only weakens crash safety.
  if (auto d = reopen_dir(path_fd)) (void)sys::fsync(d->get(), dir);
}

}  // namespace

Error invalid_secret_name(std::string_view name) {
  return make_error(
      "secret name '" + std::string(name) + "' is not valid",
      "use 1 to 64 of a-z, 0-9, '_' and '-', starting with a letter or digit (e.g. anthropic)");
}

Status check_secret_value(std::string_view value) {
  if (value.empty())
    return make_error("the secret value is empty", "give the value on stdin or with --from-file");
  if (value.size() > kMaxSecretBytes)
    return make_error("the secret value is larger than 64 KiB",
                      "a credential is a key or a token, not a file");
  if (value.find('\0') != std::string_view::npos)
    return make_error("the secret value contains a NUL byte",
                      "store the text form of the key (e.g. base64)");
  return ok_status();
}

Result<SecretBytes> read_secret_value(int fd, const std::string& what, ReadUntil until) {
  // Room for the largest value, its "\r\n", and one byte more that tells a
  // value too large from one that just fits.
  SecretBytes buf(kMaxSecretBytes + 3);
  for (;;) {
    auto room = buf.spare();
    if (room.empty()) break;
    auto n = sys::read_some(fd, std::as_writable_bytes(room));
    if (!n) return sys_error("read the secret value from " + what, n.error().err);
    if (*n == 0) break;
    buf.grow_by(*n);
    if (until == ReadUntil::kFirstLine) {
      size_t nl = buf.view().find('\n');
      if (nl != std::string_view::npos) {
        buf.shrink_to(nl + 1);
        break;
      }
    }
  }
  if (buf.size() == buf.capacity())
    return make_error("the secret value from " + what + " is larger than 64 KiB",
                      "a credential is a key or a token, not a file");
  std::string_view v = buf.view();
  if (v.ends_with("\r\n"))
    buf.shrink_to(v.size() - 2);
  else if (v.ends_with('\n'))
    buf.shrink_to(v.size() - 1);
  HULL_TRY(check_secret_value(buf.view()));
  return buf;
}

std::string SecretStore::default_dir() { return paths::data_dir() + "/secrets"; }

Status SecretStore::set(std::string_view name, std::string_view value) {
  if (!valid_secret_name(name)) return invalid_secret_name(name);
  HULL_TRY(check_secret_value(value));
  HULL_ASSIGN(UniqueFd dir, open_store_dir(dir_, Missing::kCreate));
  const std::string final_name(name);
  // A leading '.' is never a valid secret name, so list() skips a temp file
  // a crash left behind; O_EXCL never reuses one.
  const std::string tmp = ".tmp-" + final_name + "." + std::to_string(::getpid());
  auto fd = sys::open_at(dir.get(), tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
  if (!fd)
    return sys_error("create " + dir_ + "/" + tmp, fd.error().err,
                     "remove it if no hull secret set is running");
  auto written = [&]() -> Status {
    // Exactly 0600 whatever the umask: get() refuses anything else.
    if (::fchmod(fd->get(), 0600) < 0) return sys_error("chmod " + dir_ + "/" + tmp);
    HULL_TRY(sys::write_all(fd->get(), value));
    HULL_TRY(sys::fsync(fd->get(), dir_ + "/" + tmp));
    fd->reset();
    return sys::rename_at(dir.get(), tmp, final_name);
  }();
  if (!written) {
    (void)sys::unlink_at(dir.get(), tmp);
    return make_error("save secret '" + final_name + "' in " + dir_, written.error().message());
  }
  sync_dir(dir.get(), dir_);
  return ok_status();
}

Result<SecretBytes> SecretStore::get(std::string_view name) const {
  if (!valid_secret_name(name)) return invalid_secret_name(name);
  auto dir = open_store_dir(dir_, Missing::kRefuse);
  if (!dir) return dir.error().err == ENOENT ? no_such_secret(name) : dir.error();
  const std::string path = dir_ + "/" + std::string(name);
  // O_NONBLOCK: a FIFO put in place of the file must not hang us.
  auto fd =
      sys::open_at(dir->get(), std::string(name), O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
  if (!fd && fd.error().err == ENOENT) return no_such_secret(name);
  if (!fd && fd.error().err == ELOOP)
    return make_error(path + " is a symlink; a secret is never read through one",
                      "rm " + path + " and hull secret set " + std::string(name) + " again");
  if (!fd) return sys_error("open " + path, fd.error().err);
  HULL_ASSIGN(struct ::stat st, sys::fstat(fd->get(), path));
  if (!S_ISREG(st.st_mode))
    return make_error(path + " is not a regular file",
                      "rm it and hull secret set " + std::string(name) + " again");
  if (st.st_uid != ::geteuid())
    return make_error(path + " is owned by uid " + std::to_string(st.st_uid) + ", not by you",
                      "rm it and hull secret set " + std::string(name) + " again");
  if ((st.st_mode & 077) != 0)
    return make_error(
        path + " is open to group or others (mode " + octal_mode(st.st_mode) + ")",
        "chmod 600 " + path + ", and replace the key if someone else could have read it");
  if (st.st_size <= 0 || static_cast<uint64_t>(st.st_size) > kMaxSecretBytes)
    return make_error(
        path + " holds " + std::to_string(st.st_size) + " bytes, not 1 byte to 64 KiB",
        "hull secret set " + std::string(name) + " again");
  SecretBytes value(static_cast<size_t>(st.st_size));
  while (!value.spare().empty()) {
    auto n = sys::read_some(fd->get(), std::as_writable_bytes(value.spare()));
    if (!n) return sys_error("read " + path, n.error().err);
    if (*n == 0) break;
    value.grow_by(*n);
  }
  if (auto ok = check_secret_value(value.view()); !ok)
    return make_error(
        "secret '" + std::string(name) + "' in " + path + " is not usable: " + ok.error().message(),
        "hull secret set " + std::string(name) + " again");
  return value;
}

Result<std::vector<SecretEntry>> SecretStore::list() const {
  auto dir = open_store_dir(dir_, Missing::kRefuse);
  if (!dir && dir.error().err == ENOENT) return std::vector<SecretEntry>{};
  if (!dir) return dir.error();
  HULL_ASSIGN(UniqueFd readable, reopen_dir(dir->get()));
  std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(readable.get()), ::closedir);
  if (!d) return sys_error("read directory " + dir_);
  readable.release();  // the DIR owns it now
  std::vector<SecretEntry> out;
  while (const struct dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (!valid_secret_name(name)) continue;  // ".", "..", temp files
    auto st = sys::lstat_at(dir->get(), name);
    if (!st || !S_ISREG(st->st_mode)) continue;
    out.push_back({name, st->st_mtime});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

Status SecretStore::remove(std::string_view name) {
  if (!valid_secret_name(name)) return invalid_secret_name(name);
  auto dir = open_store_dir(dir_, Missing::kRefuse);
  if (!dir) return dir.error().err == ENOENT ? no_such_secret(name) : dir.error();
  auto gone = sys::unlink_at(dir->get(), std::string(name));
  if (!gone && gone.error().err == ENOENT) return no_such_secret(name);
  if (!gone) return sys_error("remove " + dir_ + "/" + std::string(name), gone.error().err);
  sync_dir(dir->get(), dir_);
  return ok_status();
}

}  // namespace hull::egress
