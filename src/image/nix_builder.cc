#include "image/nix_builder.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <climits>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "base/command.h"
#include "base/fd.h"
#include "base/sys.h"
#include "image/project_files.h"

namespace hull::image {

namespace fs = std::filesystem;

namespace {

// Bounds on what nix tells us (it is a local program, but its output sizes
// depend on the flake, which is the user's or a stranger's).
constexpr size_t kMaxJsonBytes = 64u << 20;  // path-info of a big closure is a few MiB
constexpr size_t kMaxClosurePaths = 20'000;
constexpr size_t kMaxLockBytes = 16u << 20;
constexpr int kMaxDepth = 256;  // directory nesting in one store path
constexpr const char* kStoreDir = "/nix/store/";

void say(int fd, const std::string& line) {
  if (fd >= 0) (void)sys::write_all(fd, line + "\n");
}

// `nix <sub>` as this builder always runs it. build-users-group '': root
// builds without the nixbld users that a nix install (not Debian's package)
// creates; without it nix 2.8 warns on every call and refuses to build.
std::vector<std::string> nix_argv(const std::string& sub) {
  return {"nix", "--extra-experimental-features", "nix-command flakes", sub, "--option", "build-users-group", ""};
}

Command command(const std::vector<std::string>& argv) {
  Command c(argv.front());
  c.args(std::vector<std::string>(argv.begin() + 1, argv.end()));
  c.env("NO_COLOR=1");
  return c;
}

Command nix(const std::string& sub) { return command(nix_argv(sub)); }
// For progress lines only (never run): Command::display() drops the quotes
// that "nix-command flakes" and '' need to be pasted into a shell.
std::string quoted(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    bool plain = !a.empty() && a.find_first_of(" '\"\\$`") == std::string::npos;
    s += (s.empty() ? "" : " ") + (plain ? a : "'" + a + "'");
  }
  return s;
}

// nix's own "error:" lines from its stderr tail, colour codes removed, joined
// with "; " (the build log, which -L prefixes with "<name>> ", never starts
// a line with "error:"). Else the tail's last line.
std::string nix_reason(const std::string& err_tail) {
  std::string clean;
  for (size_t i = 0; i < err_tail.size(); ++i) {
    if (err_tail[i] == '\x1b') {
      while (i < err_tail.size() && !std::isalpha(static_cast<unsigned char>(err_tail[i]))) ++i;
      continue;
    }
    clean += err_tail[i];
  }
  std::string why, last;
  for (size_t pos = 0; pos < clean.size();) {
    size_t end = std::min(clean.find('\n', pos), clean.size());
    std::string line = clean.substr(pos, std::min<size_t>(end - pos, 500));
    pos = end + 1;
    if (!line.empty()) last = line;
    size_t text = line.find_first_not_of(' ', 6);
    if (line.starts_with("error:") && text != std::string::npos) why += (why.empty() ? "" : "; ") + line.substr(text);
  }
  if (why.empty()) why = last.empty() ? "nix printed no error" : last;
  return why.substr(0, 1500);
}

// What to do next, for the failures nix's own words leave unclear. The
// build's own failure first: a derivation may be named "sandbox-…".
std::string next_step(const std::string& why) {
  auto has = [&](const char* s) { return why.find(s) != std::string::npos; };
  if (has("failed with exit code"))
    return " (the build's own output is above; `nix log <drv>` prints it again)";
  if (has("does not provide attribute"))
    return " (check the #attr in hull.toml's [image] base; `nix flake show` lists what the flake has)";
  if (has("setgroups") || has("cloning builder process") || has("unable to start build") || has("sandbox"))
    return " (the nix build sandbox cannot start here: it needs user, mount and pid namespaces — see "
           "hull doctor; hull does not build without it)";
  if (has("unable to download") || has("resolve host"))
    return " (a flake input or substituter needs the network; offline, use inputs that are local paths)";
  if (has("lock file"))
    return " (flake.lock does not fit flake.nix; build once without --locked and commit flake.lock)";
  return "";
}

// "<hash>-hello-2.12" → {"hello", "2.12"}: nix's own rule (DrvName) — the
// version starts at the first '-' not followed by a letter.
std::pair<std::string, std::string> name_and_version(const std::string& store_path) {
  std::string base = store_path.substr(store_path.rfind('/') + 1);
  base = base.substr(std::min(base.find('-') + 1, base.size()));
  for (size_t i = 0; i + 1 < base.size(); ++i)
    if (base[i] == '-' && !std::isalpha(static_cast<unsigned char>(base[i + 1])))
      return {base.substr(0, i), base.substr(i + 1)};
  return {base, ""};
}

// A store path we are willing to copy to /nix/store/<name> of the image.
bool plain_store_path(const std::string& p) {
  if (!p.starts_with(kStoreDir) || p.size() > 256) return false;
  const std::string name = p.substr(std::string(kStoreDir).size());
  if (name.size() < 34 || name[32] != '-' || name.starts_with(".")) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("+-._?=").find(c) != std::string_view::npos;
  });
}

// ---- copying store trees (files, directories, symlinks: all a NAR has) ----

Status copy_bytes(int in, int out, const std::string& shown) {
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, 1u << 30, 0);
    if (n == 0) return ok_status();
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) return sys_error("copy " + shown);
    break;  // a filesystem pair that cannot: plain read/write from here on
  }
  for (;;) {
    HULL_ASSIGN(size_t got, sys::read_some(in, std::as_writable_bytes(std::span(buf))));
    if (got == 0) return ok_status();
    HULL_TRY(sys::write_all(out, std::string_view(buf, got)));
  }
}

Status copy_entry(const std::string& src, int dst_dir, const std::string& name, int depth);

// The entries of directory `src` into the open directory `dst`.
Status copy_children(const std::string& src, int dst, int depth) {
  if (depth > kMaxDepth) return make_error("copy " + src, "directories nest deeper than 256 levels");
  HULL_ASSIGN(UniqueFd fd, sys::open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(fd.get()), &::closedir);
  if (!dir) return sys_error("read " + src);
  (void)fd.release();  // closedir closes it
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir.get())) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) HULL_TRY(copy_entry(src + "/" + n, dst, n, depth + 1));
  return ok_status();
}

// Never replaces anything: O_EXCL / mkdir fail on a name that is there, so
// an output that ships its own nix/store/<x> cannot shadow the closure.
Status copy_entry(const std::string& src, int dst_dir, const std::string& name, int depth) {
  struct stat st {};
  if (::lstat(src.c_str(), &st) != 0) return sys_error("copy " + src);
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = ::readlink(src.c_str(), target, sizeof target);
    if (n < 0 || static_cast<size_t>(n) >= sizeof target) return sys_error("readlink " + src);
    if (::symlinkat(std::string(target, n).c_str(), dst_dir, name.c_str()) < 0) return sys_error("symlink " + name);
    return ok_status();
  }
  if (S_ISREG(st.st_mode)) {
    const mode_t mode = (st.st_mode & S_IXUSR) != 0 ? 0755 : 0644;
    HULL_ASSIGN(UniqueFd in, sys::open(src, O_RDONLY | O_NOFOLLOW));
    UniqueFd out(::openat(dst_dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out) return sys_error("create " + name, errno, "copying " + src);
    HULL_TRY(copy_bytes(in.get(), out.get(), src));
    if (::fchmod(out.get(), mode) < 0) return sys_error("chmod " + name);
    return ok_status();
  }
  if (S_ISDIR(st.st_mode)) {
    if (::mkdirat(dst_dir, name.c_str(), 0700) < 0) return sys_error("mkdir " + name, errno, "copying " + src);
    UniqueFd sub(::openat(dst_dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) return sys_error("open " + name);
    if (::fchmod(sub.get(), 0755) < 0) return sys_error("chmod " + name);
    return copy_children(src, sub.get(), depth);
  }
  return make_error("copy " + src, "not a file, directory or symlink (a nix store has no other kind)");
}

// ---- the build ----

// The output's store path.
Result<std::string> run_build(const NixBuildRequest& req, const ResolvedFlake& flake, const std::string& link) {
  const std::string installable = flake.ref + "#" + req.spec.image.base.attr;
  // -L: the builder's own log goes to progress as it runs (and its tail into
  // our error). --out-link in the staging dir: a GC root while we copy,
  // gone (and so no root) with the staging dir.
  std::vector<std::string> argv = nix_argv("build");
  argv.insert(argv.end(), {"--option", "sandbox", "true", "--option", "sandbox-fallback", "false"});
  argv.insert(argv.end(), {"--json", "-L", "--out-link", link});
  if (req.update) argv.push_back("--recreate-lock-file");
  if (req.locked) argv.push_back("--no-update-lock-file");
  argv.push_back(installable);
  Command c = command(argv);
  c.cwd(req.project_dir).capture_stdout(kMaxJsonBytes).stream_stderr_to(req.progress_fd).allow_failure();
  say(req.progress_fd, "nix: " + quoted(argv));
  HULL_ASSIGN(CommandOutput out, c.run());
  if (out.exit_code != 0) {
    std::string why = nix_reason(out.err_tail);
    return make_error("nix build " + installable, why + next_step(why));
  }
  // [{"drvPath": ..., "outputs": {"out": "/nix/store/..."}}]
  auto j = nlohmann::json::parse(out.out, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array() || j.size() != 1 || !j[0].is_object() || !j[0].contains("outputs") || !j[0]["outputs"].is_object())
    return make_error("read nix build --json", "expected one derivation with outputs, got: " + out.out.substr(0, 300));
  const auto& outs = j[0]["outputs"];
  const nlohmann::json* chosen = outs.contains("out") ? &outs["out"] : outs.size() == 1 ? &*outs.begin() : nullptr;
  if (chosen == nullptr || !chosen->is_string())
    return make_error("nix build " + installable,
                      "the derivation has several outputs and none is \"out\"; point #attr at one directory");
  std::string path = chosen->get<std::string>();
  if (!plain_store_path(path)) return make_error("nix build " + installable, "unexpected output path " + path);
  return path;
}

struct ClosureEntry {
  std::string path, nar_hash;
  uint64_t nar_size = 0;
};

// Every store path the output needs at run time (itself included), sorted.
Result<std::vector<ClosureEntry>> closure_of(const std::string& out_path) {
  Command c = nix("path-info");
  c.args({"--json", "--recursive", out_path}).capture_stdout(kMaxJsonBytes).allow_failure();
  HULL_ASSIGN(CommandOutput out, c.run());
  if (out.exit_code != 0) return make_error("nix path-info --recursive " + out_path, nix_reason(out.err_tail));
  auto j = nlohmann::json::parse(out.out, nullptr, false);
  if (!j.is_array()) return make_error("read nix path-info --json", "not a JSON array (output cut at 64 MiB?)");
  if (j.size() > kMaxClosurePaths) return make_error("copy the closure of " + out_path, "more than 20000 store paths");
  std::vector<ClosureEntry> r;
  for (const auto& e : j) {
    if (!e.is_object() || !e.contains("path") || !e["path"].is_string())
      return make_error("read nix path-info --json", "an entry without a path");
    ClosureEntry c{e["path"].get<std::string>(), e.value("narHash", ""), e.value("narSize", uint64_t{0})};
    if (!plain_store_path(c.path)) return make_error("copy the closure of " + out_path, "unexpected path " + c.path);
    r.push_back(std::move(c));
  }
  std::sort(r.begin(), r.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return r;
}

// The output's tree → rootfs; the rest of the closure → rootfs/nix/store.
Status fill_rootfs(const std::string& out_path, const std::vector<ClosureEntry>& closure, const std::string& rootfs) {
  struct stat st {};
  if (::lstat(out_path.c_str(), &st) != 0) return sys_error("read " + out_path);
  if (!S_ISDIR(st.st_mode))
    return make_error("use " + out_path + " as a root filesystem",
                      "the output is a single file, not a directory; build a directory (e.g. $out/bin/...)");
  HULL_ASSIGN(UniqueFd root, sys::open(rootfs, O_RDONLY | O_DIRECTORY));
  if (::fchmod(root.get(), 0755) < 0) return sys_error("chmod " + rootfs);
  HULL_TRY(copy_children(out_path, root.get(), 0));
  // Beneath the root without following a link: the output may have put
  // anything at /nix (a symlink out of the tree, a file).
  if (::mkdirat(root.get(), "nix", 0755) < 0 && errno != EEXIST) return sys_error("mkdir /nix");
  HULL_ASSIGN(UniqueFd nix_dir, sys::open_beneath(root.get(), "nix", O_RDONLY | O_DIRECTORY));
  if (::mkdirat(nix_dir.get(), "store", 0755) < 0 && errno != EEXIST) return sys_error("mkdir /nix/store");
  HULL_ASSIGN(UniqueFd store, sys::open_beneath(nix_dir.get(), "store", O_RDONLY | O_DIRECTORY));
  for (const auto& c : closure) {
    const std::string name = c.path.substr(std::string(kStoreDir).size());
    // The output is already /: a link, not a second copy, keeps its own
    // references (scripts naming $out/bin/...) working.
    if (c.path == out_path) {
      if (::symlinkat("/", store.get(), name.c_str()) < 0) return sys_error("symlink /nix/store/" + name);
      continue;
    }
    HULL_TRY(copy_entry(c.path, store.get(), name, 0));
  }
  return ok_status();
}

}  // namespace

ResolvedFlake resolve_flake_ref(const std::string& ref, const std::string& project_dir) {
  std::string path = ref.starts_with("path:") ? ref.substr(5) : ref;
  if (!ref.starts_with("path:") && !ref.starts_with(".") && !ref.starts_with("/"))
    return {ref, ""};  // github:, nixpkgs, git+https:, ...: nix resolves them
  // nix 2.8 takes no ?dir= on a path: ref; fold it into the path instead.
  std::string query;
  if (size_t q = path.find('?'); q != std::string::npos) {
    query = path.substr(q + 1);
    path.resize(q);
  }
  std::string rest;
  size_t at = 0;
  while (at <= query.size() && !query.empty()) {
    size_t amp = std::min(query.find('&', at), query.size());
    std::string kv = query.substr(at, amp - at);
    if (kv.starts_with("dir=")) path += "/" + kv.substr(4);
    else if (!kv.empty()) rest += (rest.empty() ? "?" : "&") + kv;
    at = amp + 1;
  }
  std::string abs = (fs::path(project_dir) / path).lexically_normal().string();
  while (abs.size() > 1 && abs.back() == '/') abs.pop_back();
  return {"path:" + abs + rest, abs};
}

Status nix_usable() {
  if (find_program("nix").empty())
    return make_error("build a nix image", "nix is not installed; apt-get install nix-bin (or run ./bootstrap)");
  // Without the daemon nix writes /nix itself; its sandbox set-up needs root too.
  if (::geteuid() != 0) return make_error("build a nix image", "hull runs nix without its daemon, which needs root");
  Command c = nix("--version");
  c.capture_stdout(4096).allow_failure();
  auto out = c.run();
  if (!out) return out.error();
  if (out->exit_code != 0 || !out->out.starts_with("nix (Nix) "))
    return make_error("run nix --version", nix_reason(out->err_tail) + " (reinstall nix-bin?)");
  return ok_status();
}

Result<std::string> nix_flake_fingerprint(const WorkloadSpec& spec, const std::string& project_dir) {
  const ResolvedFlake flake = resolve_flake_ref(spec.image.base.flake_ref, project_dir);
  Command c = nix("flake");
  c.args({"metadata", "--json", "--no-write-lock-file", flake.ref}).cwd(project_dir);
  c.capture_stdout(kMaxJsonBytes).allow_failure();
  HULL_ASSIGN(CommandOutput out, c.run());
  if (out.exit_code != 0) return make_error("nix flake metadata " + flake.ref, nix_reason(out.err_tail));
  auto j = nlohmann::json::parse(out.out, nullptr, false);
  if (!j.is_object() || !j.contains("locked") || !j["locked"].is_object())
    return make_error("read nix flake metadata --json", "no \"locked\" object");
  nlohmann::json locked = j["locked"];
  locked.erase("lastModified");  // a path flake's mtime: not content
  return nlohmann::json{{"locked", locked}, {"locks", j.value("locks", nlohmann::json())}}.dump();
}

Result<NixBuildResult> build_nix_image(const NixBuildRequest& req, ImageStore& store) {
  const auto t0 = std::chrono::steady_clock::now();
  const WorkloadSpec& spec = req.spec;
  if (spec.image.base.kind != BaseKind::kNix)
    return make_error("build " + req.spec_path, "the nix builder needs base = \"nix:<flake-ref>#<attr>\"");
  if (auto u = nix_usable(); !u) return u.error();
  const ResolvedFlake flake = resolve_flake_ref(spec.image.base.flake_ref, req.project_dir);

  // nix writes flake.lock next to a local flake.nix when it locks new inputs.
  const std::string lock_path = flake.local_dir.empty() ? "" : flake.local_dir + "/flake.lock";
  auto lock_before = lock_path.empty() ? Result<std::string>(std::string()) : sys::read_file(lock_path, kMaxLockBytes);
  HULL_ASSIGN(Staging staging, store.stage());
  const std::string link = staging.dir() + "/nix-result";
  say(req.progress_fd, "build: nix builds " + flake.ref + "#" + spec.image.base.attr + " in its sandbox…");
  HULL_ASSIGN(std::string out_path, run_build(req, flake, link));
  HULL_ASSIGN(auto closure, closure_of(out_path));
  say(req.progress_fd, "copy: " + out_path + " as /, its closure (" + std::to_string(closure.size()) +
                           " store paths) to /nix/store…");
  HULL_TRY(fill_rootfs(out_path, closure, staging.rootfs()));
  HULL_TRY(copy_project_files(req.project_dir, spec.image.files, staging.rootfs()));
  if (::unlink(link.c_str()) < 0 && errno != ENOENT) return sys_error("remove " + link);  // the dir becomes the image's

  NixBuildResult res;
  ImageMeta meta;
  meta.config = config_of(spec);
  meta.builder = "nix";
  // The builder ran in nix's sandbox (namespaces, no host files, no network
  // for non-fixed-output derivations) as host root mapped to a build uid.
  meta.isolation = "nix-sandbox";
  meta.source = req.spec_path + " nix:" + spec.image.base.flake_ref + "#" + spec.image.base.attr;
  for (const auto& c : closure) {
    auto [name, version] = name_and_version(c.path);
    meta.packages.push_back({{"name", name}, {"version", version}, {"store_path", c.path},
                             {"nar_hash", c.nar_hash}, {"nar_size", c.nar_size}});
  }
  meta.lock = nullptr;
  res.flake_lock_path = lock_path;
  if (!lock_path.empty() && sys::exists(lock_path)) {
    HULL_ASSIGN(std::string text, sys::read_file(lock_path, kMaxLockBytes));
    meta.lock = nlohmann::json::parse(text, nullptr, false);
    if (meta.lock.is_discarded())
      return make_error("read " + lock_path, "not JSON; delete it and build again to let nix rewrite it");
    res.flake_lock_present = true;
    res.flake_lock_written = !lock_before || *lock_before != text;
  }
  say(req.progress_fd, "publish: digesting the tree…");
  HULL_ASSIGN(res.image, store.publish(std::move(staging), meta));
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace hull::image
