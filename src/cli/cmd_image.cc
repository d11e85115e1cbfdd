// `hull image prepare-default`: build (or find in the cache) the default
// image rootfs. bench/ and CI call it up front so tests never build it.
#include <cstdio>

#include "cli/commands.h"
#include "image/default_image.h"

namespace hull::cli {

int cmd_image_prepare(bool print_path) {
  auto rootfs = image::ensure_default_rootfs(2);
  if (!rootfs) return fail("prepare the default image: " + rootfs.error().message(), "see hull doctor");
  if (print_path) std::printf("%s\n", rootfs->c_str());
  else std::fprintf(stderr, "hull: default image ready at %s\n", rootfs->c_str());
  return 0;
}

}  // namespace hull::cli
