// `hull image build [PATH]`: hull.toml → an image in the store (+ hull.lock).
#include <cstdio>

#include "cli/build_sandbox.h"
#include "cli/commands.h"
#include "cli/image_json.h"
#include "cli/output.h"
#include "image/image_build.h"

namespace hull::cli {

int cmd_image_build(const ImageBuildArgs& a) {
  auto where = image::locate_spec(a.path);
  if (!where) return fail(where.error());
  image::ImageStore store;
  if (!a.tag.empty() && !image::ImageStore::valid_tag(a.tag))
    return fail("invalid image name '" + a.tag + "'", "use lower-case letters, digits, '.', '_', '-', ':'");
  image::BuildOptions opts;
  opts.update = a.update;
  opts.locked = a.locked;
  opts.use_cache = !a.no_cache;
  opts.progress_fd = 2;  // progress always goes to stderr; --json owns stdout
  auto sandbox = builder_sandbox();
  if (!sandbox) return fail(sandbox.error());
  opts.sandbox = std::move(*sandbox);
  std::fprintf(stderr, "hull: building %s\n", where->spec_path.c_str());
  auto r = image::build_image(*where, opts, store);
  if (!r) return fail(r.error());
  if (!a.tag.empty())
    if (auto t = store.tag(a.tag, r->image.digest); !t) return fail(t.error());
  if (r->cached)
    std::fprintf(stderr, "hull: nothing changed since the last build (hull.toml, lock, files): reusing %s; "
                 "--no-cache builds again\n", r->image.digest.c_str());
  else
    std::fprintf(stderr, "hull: built %s in %.1f s (%s, %zu packages, %.0f MiB%s%s)\n", r->image.digest.c_str(),
               r->seconds, r->builder.c_str(), r->image.meta.packages.size(),
               static_cast<double>(r->image.size_bytes) / (1 << 20), r->fetched ? ", downloaded " : "",
               r->fetched ? (std::to_string(r->fetched) + " .debs").c_str() : "");
  if (r->lock_written) std::fprintf(stderr, "hull: wrote %s (commit it)\n", r->lock_path.c_str());
  if (a.json) {
    auto j = image_record_json(r->image, a.tag.empty() ? std::vector<std::string>{} : std::vector<std::string>{a.tag});
    j["build"] = {{"seconds", r->seconds}, {"lock_path", r->lock_path}, {"lock_written", r->lock_written},
                  {"resolved", r->resolved}, {"fetched", r->fetched}, {"cached", r->cached}};
    print_json(j);
  } else {
    std::printf("%s\n", r->image.digest.c_str());
  }
  return 0;
}

}  // namespace hull::cli
