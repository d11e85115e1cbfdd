#include "image/image_build.h"

#include <sys/stat.h>

#include <filesystem>

#include "image/debian_builder.h"
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

Result<BuildOutcome> build_image(const SpecLocation& where, const BuildOptions& opts, ImageStore& store) {
  HULL_ASSIGN(WorkloadSpec spec, load_workload_spec(where.spec_path));
  BuildOutcome out;
  switch (spec.image.base.kind) {
    case BaseKind::kDebian: {
      DebianBuildRequest req{spec, where.spec_path, where.project_dir, where.lock_path, opts.update, opts.locked,
                             opts.progress_fd};
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
    case BaseKind::kNix:
      return make_error("build " + where.spec_path, "the nix builder is not in this hull yet");
    case BaseKind::kOci:
      return make_error("build " + where.spec_path,
                        "base = \"oci:...\" images are not built but imported: hull image import FILE.tar --tag NAME");
  }
  return make_error("build " + where.spec_path, "unknown base");
}

}  // namespace hull::image
