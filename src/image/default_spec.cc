// The default image as a built-in hull.toml, built by the debian builder
// into a store every HULL_HOME shares (see default_image.h).
#include <fcntl.h>
#include <sys/file.h>

#include "base/fd.h"
#include "base/paths.h"
#include "base/sys.h"
#include "image/debian_builder.h"
#include "image/default_image.h"
#include "image/workload_spec.h"

namespace hull::image {

namespace {

std::string project_dir() { return paths::cache_dir() + "/default-image"; }

Result<std::string> ready_rootfs() {
  ImageStore store(default_store_root());
  HULL_ASSIGN(ImageRecord rec, store.resolve(default_image_tag()));
  return rec.rootfs();
}

}  // namespace

std::string default_spec_toml() {
  const DefaultImageSpec d = default_spec();
  std::string pkgs;
  for (const auto& p : d.packages) pkgs += (pkgs.empty() ? "\"" : ", \"") + p + "\"";
  return "# hull's default image (built in; see src/image/default_image.h)\n"
         "[image]\n"
         "base = \"debian:" + d.suite + "\"\n"
         "packages = [" + pkgs + "]\n";
}

std::string default_store_root() { return paths::cache_dir() + "/default-store"; }

std::string default_image_tag() {
  auto spec = parse_workload_spec(default_spec_toml(), "built-in default hull.toml");
  return "default-" + (spec ? spec_digest(*spec).substr(0, 12) : std::string("invalid"));
}

std::string cached_default_rootfs() {
  auto r = ready_rootfs();
  return r ? *r : "";
}

Result<std::string> ensure_default_rootfs(int progress_fd) {
  if (auto r = ready_rootfs(); r) return r;
  HULL_TRY(sys::mkdir_p(project_dir(), 0755));
  // One builder at a time; the rest wait and then find it ready.
  HULL_ASSIGN(UniqueFd lock, sys::open(project_dir() + "/.build-lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) < 0) {
    if (progress_fd >= 0) (void)sys::write_all(progress_fd, "waiting for another hull process building the default image…\n");
    int rc;
    do rc = ::flock(lock.get(), LOCK_EX);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) return sys_error("lock " + project_dir() + "/.build-lock");
  }
  if (auto r = ready_rootfs(); r) return r;

  const std::string toml = default_spec_toml();
  const std::string spec_path = project_dir() + "/hull.toml";
  HULL_TRY(sys::write_file_atomic(spec_path, toml));
  HULL_ASSIGN(WorkloadSpec spec, parse_workload_spec(toml, spec_path));
  if (progress_fd >= 0)
    (void)sys::write_all(progress_fd, "building the default image (Debian " + spec.image.base.suite +
                                          ", once; pinned in " + project_dir() + "/hull.lock)…\n");
  ImageStore store(default_store_root());
  DebianBuildRequest req{spec,
                          spec_path,
                          project_dir(),
                          project_dir() + "/hull.lock",
                          /*update=*/false,
                          /*locked=*/false,
                          progress_fd,
                          /*sandbox=*/std::nullopt,
                          "the default image is built from Debian's archive on the host, like the builder image"};
  HULL_ASSIGN(DebianBuildResult built, build_debian_image(req, store));
  HULL_TRY(store.tag(default_image_tag(), built.image.digest));
  return built.image.rootfs();
}

}  // namespace hull::image
