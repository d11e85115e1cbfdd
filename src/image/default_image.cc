// The default image's cache: spec -> key -> cache_dir()/images/default-<key>,
// built at most once per key across processes (flock) and published with one
// rename() so a reader never sees half a rootfs.
#include "image/default_image.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "base/digest.h"
#include "base/fd.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/sys.h"
#include "base/temp_dir.h"
#include "image/image_manifest.h"

namespace hull::image {

namespace fs = std::filesystem;

DefaultImageSpec default_spec() {
  DefaultImageSpec s;
  s.packages = {
      "bash",             // the shell agents and scripts expect (Essential, pinned anyway)
      "coreutils",        // ls, cat, cp, ... (Essential, pinned anyway)
      "python3",          // what coding agents run most
      "git",              // clone, diff, commit inside the workspace
      "curl",             // HTTP(S) through the egress proxy
      "ca-certificates",  // TLS roots for curl/git/python; the egress CA joins them
      "procps",           // ps, top, kill: see what runs in the sandbox
      "iproute2",         // ip: inspect the sandbox's network
  };
  return s;
}

DefaultImageSpec builder_spec() {
  DefaultImageSpec s;
  s.name = "image builder's sandbox image";
  // mount: mmdebstrap mounts /proc, /sys, /dev in its chroot; zstd: it
  // compresses the tar it hands back.
  s.packages = {"mmdebstrap", "mount", "zstd"};
  return s;
}

std::string spec_key(const DefaultImageSpec& spec) {
  std::vector<std::string> pkgs = spec.packages;
  std::sort(pkgs.begin(), pkgs.end());
  pkgs.erase(std::unique(pkgs.begin(), pkgs.end()), pkgs.end());
  // Canonical form: compact JSON, keys sorted (nlohmann's object is a
  // std::map), strings escaped, so no value can run into another field.
  const nlohmann::json canon = {{"what", "hull-default-image"},
                                {"builder", kBuilderVersion},
                                {"suite", spec.suite},
                                {"variant", spec.variant},
                                {"packages", pkgs}};
  return sha256_hex(canon.dump()).substr(0, 16);
}

namespace {

std::string images_root() { return paths::cache_dir() + "/images"; }
std::string lock_path(const std::string& key) { return images_root() + "/.lock-" + key; }
std::string build_prefix(const std::string& key) { return ".build-" + key + "-"; }
constexpr std::string_view kBuildPrefix = ".build-";

bool is_complete(const std::string& dir) {
  struct stat st {};
  return ::stat((dir + "/image.json").c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         ::stat((dir + "/rootfs").c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// flock(2) on the key's lock file. The fd is O_CLOEXEC so a builder child
// (mmdebstrap) never inherits the lock and keeps it past our death.
Result<UniqueFd> lock_key(const std::string& key, bool wait, bool* would_block) {
  HULL_ASSIGN(UniqueFd fd, sys::open(lock_path(key), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  int rc;
  do rc = ::flock(fd.get(), LOCK_EX | (wait ? 0 : LOCK_NB));
  while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    if (errno == EWOULDBLOCK && would_block != nullptr) *would_block = true;
    return sys_error("flock " + lock_path(key));
  }
  return fd;
}

// True when something is mounted at or below `dir` (an interrupted mmdebstrap
// can leave /proc, /sys or /dev binds in its chroot): removing through those
// would delete host files, so such a leftover is kept and reported instead.
bool has_mounts_below(const std::string& dir) {
  auto info = sys::read_file("/proc/self/mountinfo");
  if (!info) return true;  // cannot tell: be safe
  std::error_code ec;
  std::string prefix = fs::weakly_canonical(dir, ec).string();
  if (ec) return true;
  size_t pos = 0;
  while (pos < info->size()) {
    size_t end = info->find('\n', pos);
    if (end == std::string::npos) end = info->size();
    std::string_view line(info->data() + pos, end - pos);
    pos = end + 1;
    // Field 5 is the mount point ("36 35 98:0 /mnt1 /mnt2 ..."); octal
    // escapes only matter for names with spaces, which ours never have.
    size_t f = 0;
    for (int i = 0; i < 4 && f != std::string_view::npos; ++i) f = line.find(' ', f + 1);
    if (f == std::string_view::npos) continue;
    std::string_view mp = line.substr(f + 1, line.find(' ', f + 1) - f - 1);
    if (mp == prefix ||
        (mp.size() > prefix.size() && mp.starts_with(prefix) && mp[prefix.size()] == '/'))
      return true;
  }
  return false;
}

// Remove .build-<k>-* dirs left by interrupted builds: ours (we hold its lock)
// and any other key's whose lock nobody holds. Best effort, never fatal.
void remove_stale_builds(const std::string& our_key) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(images_root(), ec)) {
    std::string name = e.path().filename().string();
    if (!name.starts_with(kBuildPrefix) || name.rfind('-') < kBuildPrefix.size()) continue;
    std::string key = name.substr(kBuildPrefix.size(), name.rfind('-') - kBuildPrefix.size());
    UniqueFd other;  // held until this entry is handled
    if (key != our_key) {
      // Taking another key's lock: flock is per open file, so this conflicts
      // even with a builder in this same process — exactly what we want.
      auto l = lock_key(key, /*wait=*/false, nullptr);
      if (!l) continue;  // a live build
      other = std::move(*l);
    }
    if (has_mounts_below(e.path().string())) {
      log::warn("image: keeping {}: something is still mounted inside it", e.path().string());
      continue;
    }
    log::info("image: removing interrupted build {}", e.path().string());
    (void)sys::remove_all(e.path().string());
  }
}

void say(int fd, const std::string& line) {
  if (fd >= 0) (void)sys::write_all(fd, line + "\n");
}

}  // namespace

std::string image_dir(const DefaultImageSpec& spec) {
  return images_root() + "/default-" + spec_key(spec);
}

std::string cached_rootfs(const DefaultImageSpec& spec) {
  std::string dir = image_dir(spec);
  return is_complete(dir) ? dir + "/rootfs" : "";
}

Result<std::string> ensure_rootfs(const DefaultImageSpec& spec, const RootfsBuilder& build,
                                  int progress_fd) {
  const std::string key = spec_key(spec);
  const std::string final_dir = image_dir(spec);
  if (is_complete(final_dir)) return final_dir + "/rootfs";

  HULL_TRY(sys::mkdir_p(images_root(), 0755));
  bool busy = false;
  auto lock = lock_key(key, /*wait=*/false, &busy);
  if (!lock && busy) {
    say(progress_fd, "waiting for another hull process that is building this image…");
    lock = lock_key(key, /*wait=*/true, nullptr);
  }
  if (!lock) return lock.error();
  // Whoever held the lock before us may have finished the job.
  if (is_complete(final_dir)) return final_dir + "/rootfs";
  // default-<key> only ever appears by rename of a complete build, so an
  // incomplete one was damaged by hand: start over.
  if (sys::exists(final_dir)) HULL_TRY(sys::remove_all(final_dir));
  remove_stale_builds(key);

  HULL_ASSIGN(TempDir tmp, TempDir::create(images_root(), build_prefix(key)));
  // mkdtemp made it 0700; the image is world-readable like /usr (and apt's
  // _apt user must reach rootfs/var/lib/apt during the build).
  if (::chmod(tmp.path().c_str(), 0755) < 0) return sys_error("chmod " + tmp.path());
  const std::string rootfs = tmp.path() + "/rootfs";
  const auto t0 = std::chrono::steady_clock::now();
  HULL_TRY(build(spec, rootfs, progress_fd));
  if (!fs::is_directory(rootfs))
    return make_error("build image " + key, "the builder did not create " + rootfs);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  HULL_TRY(write_manifest(spec, key, tmp.path(), secs));

  // Data before name: after a crash, default-<key> must not point at files
  // whose blocks never reached the disk.
  if (auto d = sys::open(tmp.path(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d) ::syncfs(d->get());
  if (::rename(tmp.path().c_str(), final_dir.c_str()) < 0)
    return sys_error("rename " + tmp.path() + " -> " + final_dir);
  tmp.release();
  if (auto d = sys::open(images_root(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d) ::fsync(d->get());
  log::info("image: {} ready in {:.0f}s at {}", key, secs, final_dir);
  return final_dir + "/rootfs";
}

Result<std::string> ensure_builder_rootfs(int progress_fd) {
  return ensure_rootfs(builder_spec(), build_with_mmdebstrap, progress_fd);
}



}  // namespace hull::image
