#include "image/debian_builder.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>

#include "base/command.h"
#include "base/digest.h"
#include "base/fd.h"
#include "base/paths.h"
#include "base/sys.h"
#include "image/debian_tree.h"
#include "image/default_image.h"
#include "image/image_manifest.h"
#include "image/oci_layers.h"
#include "image/project_files.h"

namespace hull::image {

namespace fs = std::filesystem;

namespace {

constexpr const char* kVariant = "minbase";
constexpr const char* kArchitecture = "amd64";
constexpr size_t kMaxLogBytes = 64u << 20;

void say(int fd, const std::string& line) {
  if (fd >= 0) (void)sys::write_all(fd, line + "\n");
}

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

std::string joined(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// mmdebstrap under setpriv + unshare: it dies with this process (pdeathsig),
// its chroot mounts die with its mount namespace, and every process it
// started dies with its pid namespace — an interrupted build leaves no
// mounts inside the staging dir and nothing running. network=false also
// gives it a network namespace with nothing in it.
Command contained_mmdebstrap(bool network) {
  Command c("setpriv");
  c.arg("--pdeathsig").arg("KILL").arg("--").arg("unshare");
  if (!network) c.arg("--net");
  c.args({"--mount", "--pid", "--fork", "--kill-child=SIGKILL", "--mount-proc", "--", "mmdebstrap"});
  return c;
}

// The line of mmdebstrap/apt output that says why it failed.
std::string failure_reason(const std::string& log) {
  std::string best, fallback;
  size_t pos = 0;
  while (pos < log.size()) {
    size_t end = log.find('\n', pos);
    if (end == std::string::npos) end = log.size();
    std::string line = log.substr(pos, std::min<size_t>(end - pos, 300));
    pos = end + 1;
    if (!line.starts_with("E: ")) continue;
    if (line.find("mmdebstrap failed") != std::string::npos || line.starts_with("E: setup failed")) {
      if (fallback.empty()) fallback = line;
      continue;
    }
    if (best.empty()) best = line;
  }
  return !best.empty() ? best : !fallback.empty() ? fallback : "no error line (see the log above)";
}

// Runs `c` with stderr into <work>/<name>.log; returns the whole log.
Result<std::string> run_logged(Command c, const std::string& logs, const std::string& name, int* exit_code) {
  const std::string path = logs + "/" + name + ".log";
  HULL_ASSIGN(UniqueFd log, sys::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  c.stream_stderr_to(log.get()).capture_stdout(1u << 20).allow_failure();
  HULL_ASSIGN(auto out, c.run());
  *exit_code = out.exit_code;
  return sys::read_file(path, kMaxLogBytes);
}

Result<std::vector<DebPackage>> resolve(const std::vector<std::string>& requested,
                                        const DebianLock& lock, const std::string& work, const std::string& logs) {
  Command c = contained_mmdebstrap(/*network=*/true);
  c.arg("--simulate").arg("--verbose").arg(std::string("--variant=") + kVariant);
  if (!requested.empty()) c.arg("--include=" + joined(requested, ","));
  c.arg(lock.suite).arg(work + "/simulate").args(lock.sources);
  int rc = 0;
  HULL_ASSIGN(std::string log, run_logged(std::move(c), logs, "resolve", &rc));
  if (rc != 0)
    return make_error("resolve packages for Debian " + lock.suite,
                      failure_reason(log) + " (check the package names in hull.toml and that the archive is reachable)");
  HULL_ASSIGN(auto pkgs, parse_apt_simulation(log));
  if (pkgs.empty()) return make_error("resolve packages", "apt planned no installs; see " + logs + "/resolve.log");
  return pkgs;
}

// Content-addressed (<sha256>.deb), shared by every build on the host.
// HULL_DEB_CACHE moves it alone (tests empty it without losing the kernel
// and builder image that HULL_CACHE would also move).
std::string deb_cache_dir() { return env_or("HULL_DEB_CACHE", (paths::cache_dir() + "/debs").c_str()); }
std::string cached_deb(const DebPackage& p) { return deb_cache_dir() + "/" + p.sha256 + ".deb"; }

std::vector<std::string> list_dir(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string n = e.path().filename().string();
    if (n.size() > suffix.size() && n.ends_with(suffix)) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Copies `src` into the .deb cache under its hash (temp name + rename, so a
// reader never sees half a file).
Status cache_deb(const std::string& src, const std::string& sha256) {
  HULL_TRY(sys::mkdir_p(deb_cache_dir(), 0755));
  const std::string dst = deb_cache_dir() + "/" + sha256 + ".deb";
  if (sys::exists(dst)) return ok_status();
  const std::string tmp = dst + ".tmp-" + std::to_string(::getpid());
  std::error_code ec;
  fs::copy_file(src, tmp, fs::copy_options::overwrite_existing, ec);
  if (ec) return make_error("cache " + src, ec.message());
  if (::rename(tmp.c_str(), dst.c_str()) < 0) return sys_error("rename " + tmp);
  return ok_status();
}

// Step 2. Fills sha256/size when resolving; checks them against the lock when from_lock. Returns
// the number of .debs downloaded.
Result<uint64_t> fetch(DebianLock& lock, bool from_lock, const std::string& work, const std::string& logs,
                       int progress_fd) {
  if (from_lock && std::all_of(lock.packages.begin(), lock.packages.end(),
                            [](const DebPackage& p) { return sys::exists(cached_deb(p)); })) {
    say(progress_fd, "fetch: all " + std::to_string(lock.packages.size()) + " .debs of hull.lock are cached (no network)");
    return uint64_t{0};
  }
  say(progress_fd, "fetch: downloading " + std::to_string(lock.packages.size()) + " pinned .debs from " +
                       lock.sources.front().substr(4) + " … (no package code runs in this step)");
  std::vector<std::string> pins;
  for (const auto& p : lock.packages) pins.push_back(pinned(p));
  Command c = contained_mmdebstrap(/*network=*/true);
  c.arg("--variant=extract").arg("--include=" + joined(pins, ","));
  c.arg("--skip=download/empty").arg("--skip=cleanup/apt").arg(lock.suite).arg(work + "/fetch").args(lock.sources);
  int rc = 0;
  HULL_ASSIGN(std::string log, run_logged(std::move(c), logs, "fetch", &rc));
  if (rc != 0) {
    std::string why = failure_reason(log);
    if (from_lock && why.find("was not found") != std::string::npos)
      return make_error("fetch the packages pinned in hull.lock",
                        why + ": the archive no longer has that version. Run `hull image build --update` to "
                              "re-resolve (the image changes), or point HULL_DEBIAN_MIRROR at a snapshot "
                              "(snapshot.debian.org) that still has it");
    return make_error("fetch packages", why + " (is the Debian archive reachable?)");
  }
  std::map<std::string, DebPackage*> by_name;
  for (auto& p : lock.packages) by_name[p.name] = &p;
  const std::string archives = work + "/fetch/var/cache/apt/archives";
  uint64_t got = 0;
  for (const auto& f : list_dir(archives, ".deb")) {
    const std::string path = archives + "/" + f;
    HULL_ASSIGN(DebPackage id, read_deb_identity(path));
    auto it = by_name.find(id.name);
    if (it == by_name.end() || it->second->version != id.version) continue;  // not ours
    HULL_ASSIGN(std::string sum, sha256_file_hex(path));
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return sys_error("stat " + path);
    DebPackage& p = *it->second;
    if (from_lock && sum != p.sha256)
      return make_error("fetch " + p.name + " " + p.version,
                        "the archive served different bytes (sha256 " + sum + ", hull.lock says " + p.sha256 +
                            "); refusing to build. If the archive was rebuilt on purpose, run hull image build --update");
    p.sha256 = sum;
    p.size = static_cast<uint64_t>(st.st_size);
    HULL_TRY(cache_deb(path, sum));
    ++got;
  }
  for (const auto& p : lock.packages)
    if (p.sha256.empty() || !sys::exists(cached_deb(p)))
      return make_error("fetch " + p.name + " " + p.version, "apt did not download it; see " + logs + "/fetch.log");
  if (!from_lock) {
    lock.releases.clear();
    const std::string lists = work + "/fetch/var/lib/apt/lists";
    for (const auto& f : list_dir(lists, "_InRelease")) {
      HULL_ASSIGN(std::string text, sys::read_file(lists + "/" + f, 16u << 20));
      size_t at = text.find("\nDate: ");
      if (at == std::string::npos) return make_error("read " + f, "no Date: field");
      std::string date = text.substr(at + 7, text.find('\n', at + 7) - at - 7);
      HULL_ASSIGN(int64_t t, parse_release_date(date));
      lock.source_date_epoch = std::max(lock.source_date_epoch, t);
      lock.releases.push_back({f.substr(0, f.size() - std::string("_InRelease").size()), date});
    }
    if (lock.releases.empty()) return make_error("fetch packages", "apt kept no Release files; see " + logs + "/fetch.log");
  }
  return got;
}

std::string rfc2822(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S UTC", &tm);
  return buf;
}

// "1:2.66-4" → "1%3a2.66-4", as apt names files.
std::string deb_file_name(const DebPackage& p) {
  std::string v;
  for (char c : p.version) v += c == ':' ? std::string("%3a") : std::string(1, c);
  return p.name + "_" + v + "_" + p.arch + ".deb";
}

// Step 3a: the flat repository of exactly the locked .debs.
Status make_repo(const DebianLock& lock, const std::string& repo) {
  HULL_TRY(sys::mkdir_p(repo, 0755));
  std::vector<std::string> files;
  for (const auto& p : lock.packages) {
    const std::string src = cached_deb(p);
    HULL_ASSIGN(std::string sum, sha256_file_hex(src));
    if (sum != p.sha256)
      return make_error("use cached " + src, "its content no longer matches its name; delete it and build again");
    const std::string dst = repo + "/" + deb_file_name(p);
    if (::link(src.c_str(), dst.c_str()) < 0) {
      std::error_code ec;
      fs::copy_file(src, dst, ec);
      if (ec) return make_error("copy " + src, ec.message());
    }
    ::chmod(dst.c_str(), 0644);  // a sandbox's file server may run as nobody
    files.push_back(deb_file_name(p));
  }
  return write_flat_repo(repo, files, lock.suite, rfc2822(lock.source_date_epoch));
}

// mmdebstrap's arguments for installing the lock from `mirror` into `target`.
std::vector<std::string> install_args(const DebianLock& lock, const std::string& target, const std::string& mirror) {
  // Every locked package by name: the archive's Priority overrides live in
  // its Packages index, not in the .debs, so minbase's "Priority: required"
  // selection cannot be redone from our repo. The repo holds one version of
  // each, so names are pins.
  std::vector<std::string> names;
  for (const auto& p : lock.packages) names.push_back(p.name);
  return {"--mode=root", std::string("--variant=") + kVariant, "--include=" + joined(names, ","),
          // The image's apt points at the real archive, not at our repo.
          "--customize-hook=printf '%s\\n' \"$HULL_APT_SOURCES\" > \"$1/etc/apt/sources.list\"",

          lock.suite, target, mirror};
}

std::vector<std::string> install_env(const DebianLock& lock) {
  return {"SOURCE_DATE_EPOCH=" + std::to_string(lock.source_date_epoch),
          "HULL_APT_SOURCES=" + joined(lock.sources, "\n")};
}

// Step 3b, in a sandbox: mmdebstrap writes a tar to stdout; the host
// applies it as untrusted input.
Status install_in_sandbox(const DebianLock& lock, const SandboxRunner& runner, const std::string& work,
                          const std::string& logs, const std::string& rootfs, int progress_fd) {
  HULL_ASSIGN(std::string builder, ensure_builder_rootfs(progress_fd));
  SandboxedRun job;
  job.rootfs = builder;
  job.readonly_dir = work + "/repo";
  job.env = install_env(lock);
  // A zstd tar (mmdebstrap picks the format from the name), then cat: the
  // channel out of a TCG guest moves ~3 MB/s, so 4x smaller is 4x faster.
  job.argv = {"sh", "-c", "mmdebstrap \"$@\" && exec cat /tmp/hull-rootfs.tar.zst", "mmdebstrap"};
  for (auto& a : install_args(lock, "/tmp/hull-rootfs.tar.zst", "deb [trusted=yes] copy:///workspace ./"))
    job.argv.push_back(std::move(a));
  job.stdout_path = work + "/rootfs.tar";
  job.stdout_max = uint64_t{16} << 30;
  job.log_path = logs + "/install.log";
  HULL_ASSIGN(int rc, runner.run(job));
  if (rc != 0) {
    auto log = sys::read_file(job.log_path, kMaxLogBytes);
    return make_error("install packages in the " + runner.isolation + " builder sandbox",
                      (log ? failure_reason(*log) : "exit " + std::to_string(rc)) + "; full log: " + job.log_path);
  }
  say(progress_fd, "install: applying the sandbox's tar (checked like an untrusted image layer)…");
  HULL_ASSIGN(LayerStats st, apply_layer(rootfs, job.stdout_path));
  (void)st;
  return sys::remove_all(job.stdout_path);
}

// Step 3b, on the host (no sandbox available).
Status install_on_host(const DebianLock& lock, const std::string& work, const std::string& logs,
                       const std::string& rootfs) {
  Command c = contained_mmdebstrap(/*network=*/false);
  c.args(install_args(lock, rootfs, "deb [trusted=yes] copy://" + work + "/repo ./"));
  for (const auto& e : install_env(lock)) c.env(e);
  int rc = 0;
  HULL_ASSIGN(std::string log, run_logged(std::move(c), logs, "install", &rc));
  if (rc != 0) return make_error("install packages", failure_reason(log) + "; full log: " + logs + "/install.log");
  return ok_status();
}

}  // namespace

std::vector<std::string> debian_sources(const std::string& suite) {
  const std::string main = env_or("HULL_DEBIAN_MIRROR", "http://deb.debian.org/debian");
  const std::string sec = env_or("HULL_DEBIAN_SECURITY_MIRROR", "http://deb.debian.org/debian-security");
  return {"deb " + main + " " + suite + " main", "deb " + main + " " + suite + "-updates main",
          "deb " + sec + " " + suite + "-security main"};
}

std::vector<std::string> requested_packages(const WorkloadSpec& spec) {
  std::vector<std::string> r = spec.image.packages;
  std::sort(r.begin(), r.end());
  r.erase(std::unique(r.begin(), r.end()), r.end());
  return r;
}

Result<DebianBuildResult> build_debian_image(const DebianBuildRequest& req, ImageStore& store) {
  const auto t0 = std::chrono::steady_clock::now();
  const WorkloadSpec& spec = req.spec;
  if (spec.image.base.kind != BaseKind::kDebian)
    return make_error("build " + req.spec_path, "the debian builder needs base = \"debian:<suite>\"");
  for (const char* tool : {"mmdebstrap", "setpriv", "unshare", "dpkg-deb"})
    if (find_program(tool).empty())
      return make_error("build " + req.spec_path, std::string(tool) + " not found; run ./bootstrap or apt-get install mmdebstrap");
  const std::vector<std::string> requested = requested_packages(spec);

  std::optional<DebianLock> old;
  if (sys::exists(req.lock_path)) {
    HULL_ASSIGN(DebianLock l, read_lock(req.lock_path));
    old = std::move(l);
  }
  const bool fits = old && old->suite == spec.image.base.suite && old->requested == requested;
  const bool must_resolve = req.update || !fits;
  if (req.locked && must_resolve)
    return make_error("build " + req.spec_path + " --locked",
                      !old ? "there is no hull.lock; run hull image build once without --locked and commit hull.lock"
                           : "hull.lock does not fit hull.toml (suite or packages changed); run hull image build "
                             "--update and commit the new hull.lock");

  HULL_ASSIGN(Staging staging, store.stage());
  const std::string work = staging.dir() + "/work";
  HULL_TRY(sys::mkdir_p(work, 0700));
  // Logs outlive the staging dir, so a failed build can still be read.
  const std::string logs = paths::state_dir() + "/image-builds/" + staging.dir().substr(staging.dir().rfind('/') + 2);
  HULL_TRY(sys::mkdir_p(logs, 0700));

  DebianBuildResult res;
  DebianLock lock;
  if (must_resolve) {
    say(req.progress_fd, std::string("resolve: ") +
                             (!old ? "no hull.lock yet" : req.update ? "--update" : "hull.toml's packages changed") +
                             "; asking apt what Debian " + spec.image.base.suite + " minbase + " +
                             std::to_string(requested.size()) + " packages install…");
    lock.suite = spec.image.base.suite;
    lock.variant = kVariant;
    lock.architecture = kArchitecture;
    lock.requested = requested;
    lock.sources = debian_sources(lock.suite);
    HULL_ASSIGN(lock.packages, resolve(requested, lock, work, logs));
    res.resolved = true;
  } else {
    lock = *old;
  }
  lock.spec_digest = spec_digest(spec);
  HULL_ASSIGN(res.fetched_debs, fetch(lock, /*from_lock=*/!must_resolve, work, logs, req.progress_fd));
  HULL_TRY(make_repo(lock, work + "/repo"));
  res.isolation = req.sandbox ? req.sandbox->isolation : "host-chroot";
  say(req.progress_fd, "install: " + std::to_string(lock.packages.size()) + " pinned packages, no network, in " +
                           (req.sandbox ? "a " + res.isolation + " sandbox" :
                                          "a host chroot (" + req.why_host + ")") +
                           " (SOURCE_DATE_EPOCH=" + std::to_string(lock.source_date_epoch) + ")…");
  if (req.sandbox)
    HULL_TRY(install_in_sandbox(lock, *req.sandbox, work, logs, staging.rootfs(), req.progress_fd));
  else
    HULL_TRY(install_on_host(lock, work, logs, staging.rootfs()));
  HULL_TRY(check_installed(lock, staging.rootfs()));  // first: a sandbox's lie is the news
  HULL_TRY(normalize_tree(staging.rootfs()));
  HULL_TRY(copy_project_files(req.project_dir, spec.image.files, staging.rootfs()));
  HULL_TRY(sys::remove_all(work));  // the staging dir becomes the image dir

  ImageMeta meta;
  meta.config = config_of(spec);
  meta.builder = "debian";
  meta.source = req.spec_path;
  for (const auto& p : lock.packages)
    meta.packages.push_back({{"name", p.name}, {"version", p.version}, {"arch", p.arch}, {"sha256", p.sha256}});
  meta.lock = nlohmann::json::parse(lock_to_text(lock));
  meta.isolation = res.isolation;
  say(req.progress_fd, "publish: digesting the tree…");
  HULL_ASSIGN(res.image, store.publish(std::move(staging), meta));
  if (!req.locked && (!old || !(*old == lock))) {
    HULL_TRY(write_lock(req.lock_path, lock));
    res.lock_written = true;
  }
  res.lock = std::move(lock);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace hull::image
