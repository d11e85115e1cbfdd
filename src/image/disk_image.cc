#include "image/disk_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "base/cached_build.h"
#include "base/command.h"
#include "base/digest.h"
#include "base/fd.h"
#include "base/paths.h"
#include "base/sys.h"

namespace hull::image {

namespace fs = std::filesystem;

std::string disk_key(const std::string& rootfs) {
  std::error_code ec;
  std::string real = fs::weakly_canonical(rootfs, ec).string();
  std::string identity = "disk-format " + std::to_string(kDiskFormatVersion) + "\npath " + real + "\n";
  if (auto manifest = sys::read_file(fs::path(real).parent_path().string() + "/image.json", 1 << 20)) {
    identity += "manifest " + sha256_hex(*manifest) + "\n";
  } else {
    struct stat st {};
    if (::stat(real.c_str(), &st) == 0) {
      identity += "inode " + std::to_string(st.st_ino) + " ctime " + std::to_string(st.st_ctim.tv_sec) +
                  "." + std::to_string(st.st_ctim.tv_nsec) + "\n";
    }
  }
  return sha256_hex(identity).substr(0, 16);
}

namespace {

Result<uint64_t> tree_bytes(const std::string& dir) {
  HULL_ASSIGN(auto out, Command("du").arg("-sb").arg("--").arg(dir).capture_stdout(4096).run());
  uint64_t n = std::strtoull(out.out.c_str(), nullptr, 10);
  if (n == 0) return make_error("du -sb " + dir, "could not read the size of the rootfs");
  return n;
}

// A UUID-shaped string from a hex digest: the same tree gets the same
// filesystem UUID and directory-hash seed on every machine.
std::string uuid_from(const std::string& hex) {
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-4" + hex.substr(13, 3) + "-8" + hex.substr(17, 3) + "-" +
         hex.substr(20, 12);
}

Status build_disk(const std::string& rootfs, const std::string& tmp, int progress_fd) {
  HULL_ASSIGN(uint64_t used, tree_bytes(rootfs));
  // ext4 metadata and block rounding: +25% and a fixed 64 MiB, at 4 KiB.
  uint64_t size = ((used + used / 4 + (64ull << 20)) + 4095) / 4096 * 4096;
  {
    HULL_ASSIGN(UniqueFd fd, sys::open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) < 0) return sys_error("truncate " + tmp);
  }
  if (progress_fd >= 0) {
    std::string line = "hull: making the guest root disk (" + std::to_string(size >> 20) +
                       " MiB ext4) from " + rootfs + "\n";
    (void)sys::write_all(progress_fd, line);
  }
  // No journal: the guest mounts it read-only, always. Fixed UUID, hash
  // seed and clock (E2FSPROGS_FAKE_TIME) instead of random/now ones, so a
  // disk made twice from one tree differs only where mke2fs -d's readdir
  // order does (e2fsprogs 1.47.0 does not sort; the tree digest, not the
  // disk bytes, is what names and verifies an image).
  const std::string seed = sha256_hex("hull-disk-seed\n" + disk_key(rootfs));
  auto r = Command("mkfs.ext4")
               .args({"-q", "-F", "-O", "^has_journal", "-L", "hullroot", "-U", uuid_from(seed), "-E",
                      "hash_seed=" + uuid_from(seed.substr(32) + seed.substr(0, 32)), "-d", rootfs, tmp})
               .env("E2FSPROGS_FAKE_TIME=1")
               .run();
  if (!r) return r.error();
  return ok_status();
}

// The disk cache holds whole images, their 0600 files included: only its
// owner may enter it (QEMU gets each disk as an open fd). An older hull made
// it 0755; close it.
Status close_disk_dir(const std::string& dir) {
  HULL_TRY(sys::mkdir_p(dir, 0700));
  struct stat st {};
  if (::lstat(dir.c_str(), &st) < 0) return sys_error("stat " + dir);
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid())
    return make_error("disk cache " + dir, "is not a directory of this user's; remove it and retry");
  if ((st.st_mode & 07777) != 0700 && ::chmod(dir.c_str(), 0700) < 0) return sys_error("chmod " + dir);
  return ok_status();
}

}  // namespace

Result<std::string> ensure_rootfs_disk(const std::string& rootfs, int progress_fd) {
  // Any tree will do (the agent comes from the initramfs, not the image):
  // a one-binary image is a fine image.
  struct stat st {};
  if (::stat(rootfs.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error("root disk from " + rootfs, "not a directory");
  if (find_program("mkfs.ext4").empty())
    return make_error("root disk", "mkfs.ext4 not found; install e2fsprogs (apt-get install e2fsprogs)");
  const std::string dir = paths::cache_dir() + "/disks";
  HULL_TRY(close_disk_dir(dir));
  HULL_ASSIGN(std::string disk, ensure_cached(dir, disk_key(rootfs) + ".ext4", [&](const std::string& tmp) {
    return build_disk(rootfs, tmp, progress_fd);
  }));
  // Disks made by an older hull were 0644; the directory alone closes them
  // now, but a disk is a whole image (its 0600 files too): keep it 0600.
  if (::chmod(disk.c_str(), 0600) < 0) return sys_error("chmod " + disk);
  return disk;
}

}  // namespace hull::image
