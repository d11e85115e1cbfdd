#include "image/image_build.h"

#include <sys/stat.h>

#include <filesystem>

#include "base/digest.h"
#include "base/sys.h"
#include "image/debian_builder.h"
#include "image/nix_builder.h"
#include "image/tree_digest.h"
#include "image/workload_spec.h"

namespace hull::image {

Result<SpecLocation> locate_spec(const std::string& path) {
  std::error_code ec;
  std::string p = std::filesystem::absolute(path.empty() ? "." : path, ec).lexically_normal().string();
  if (ec) return make_error("find hull.toml at " + path, ec.message());
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0)
    return sys_error("find hull.toml at " + path, errno, "give a hull.toml or the directory that holds one");
  if (S_ISDIR(st.st_mode)) {
    if (p.size() > 1 && p.back() == '/') p.pop_back();
    p += "/hull.toml";
    if (::stat(p.c_str(), &st) != 0)
      return make_error("find " + p, "no hull.toml there; see docs/hull-toml.md for a first one");
  }
  SpecLocation loc;
  loc.spec_path = p;
  loc.project_dir = p.substr(0, p.rfind('/'));
  if (loc.project_dir.empty()) loc.project_dir = "/";
  loc.lock_path = loc.project_dir + "/hull.lock";
  return loc;
}

namespace {

// 2: image configs carry [health] and [[service]].
constexpr const char* kBuildKeyVersion = "hull-build-key-2";

std::string lock_file_of(const SpecLocation& where, const WorkloadSpec& spec) {
  return spec.image.base.kind == BaseKind::kNix ? where.project_dir + "/flake.lock" : where.lock_path;
}

std::string cache_entry(const ImageStore& store, const std::string& key) { return store.root() + "/builds/" + key; }

Result<BuildOutcome> build_uncached(const SpecLocation& where, const WorkloadSpec& spec, const BuildOptions& opts,
                                    ImageStore& store) {
  BuildOutcome out;
  switch (spec.image.base.kind) {
    case BaseKind::kDebian: {
      DebianBuildRequest req{spec,        where.spec_path, where.project_dir, where.lock_path,
                             opts.update, opts.locked,     opts.progress_fd,  opts.sandbox};
      HULL_ASSIGN(DebianBuildResult r, build_debian_image(req, store));
      out.image = std::move(r.image);
      out.builder = "debian";
      out.lock_path = where.lock_path;
      out.lock_written = r.lock_written;
      out.resolved = r.resolved;
      out.fetched = r.fetched_debs;
      out.seconds = r.seconds;
      return out;
    }
    case BaseKind::kNix: {
      NixBuildRequest req{spec, where.spec_path, where.project_dir, opts.update, opts.locked, opts.progress_fd};
      HULL_ASSIGN(NixBuildResult r, build_nix_image(req, store));
      out.image = std::move(r.image);
      out.builder = "nix";
      out.lock_path = r.flake_lock_path;
      out.lock_written = r.flake_lock_written;
      out.seconds = r.seconds;
      return out;
    }
    case BaseKind::kOci:
      return make_error("build " + where.spec_path,
                        "base = \"oci:...\" images are not built but imported: hull image import FILE.tar --tag NAME");
  }
  return make_error("build " + where.spec_path, "unknown base");
}


}  // namespace

Result<std::string> build_key(const SpecLocation& where) {
  HULL_ASSIGN(WorkloadSpec spec, load_workload_spec(where.spec_path));
  std::string material = std::string(kBuildKeyVersion) + "\n" + canonical_json(spec) + "\n";
  const std::string lock = lock_file_of(where, spec);
  if (sys::exists(lock)) {
    HULL_ASSIGN(std::string text, sys::read_file(lock, 64u << 20));
    material += "lock " + sha256_hex(text) + "\n";
  }
  if (spec.image.base.kind == BaseKind::kNix) {
    // flake.nix and the files it builds from are inputs too.
    HULL_ASSIGN(std::string fp, nix_flake_fingerprint(spec, where.project_dir));
    material += "flake " + fp + "\n";
  }
  for (const auto& f : spec.image.files) {
    const std::string src = where.project_dir + "/" + f.src;
    struct stat st {};
    if (::lstat(src.c_str(), &st) != 0) return sys_error("read " + src, errno, "check [[image.files]] src");
    std::string d;
    if (S_ISDIR(st.st_mode)) {
      HULL_ASSIGN(TreeDigest t, tree_digest(src));
      d = t.digest;
    } else {
      HULL_ASSIGN(d, sha256_file_hex(src));
      d += " mode " + std::to_string(st.st_mode & 07777);
    }
    material += "file " + f.src + " " + d + "\n";
  }
  return sha256_hex(material);
}

Result<BuildOutcome> build_image(const SpecLocation& where, const BuildOptions& opts, ImageStore& store) {
  HULL_ASSIGN(WorkloadSpec spec, load_workload_spec(where.spec_path));
  BuildOutcome out;
  if (auto key = build_key(where); key && opts.use_cache && !opts.update) {
    if (auto text = sys::read_file(cache_entry(store, *key), 256); text) {
      std::string digest = text->substr(0, text->find('\n'));
      if (auto rec = store.resolve(digest); rec && rec->digest == digest) {
        out.image = std::move(*rec);
        out.builder = out.image.meta.builder;
        out.lock_path = lock_file_of(where, spec);
        out.cached = true;
        return out;
      }
    }
  }
  HULL_ASSIGN(out, build_uncached(where, spec, opts, store));
  // Keyed after the build: a first build writes the lock the key includes.
  if (auto key = build_key(where); key) {
    (void)sys::mkdir_p(store.root() + "/builds", 0755);
    (void)sys::write_file_atomic(cache_entry(store, *key), out.image.digest + "\n");
  }
  return out;
}

}  // namespace hull::image
