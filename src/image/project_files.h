// What a built image takes from hull.toml's [image]: its run config, and
// [[image.files]]: copy project files and directories into a
// rootfs being built. The project is the user's own tree (trusted); the
// rootfs is a Debian tree whose symlinks (/bin -> usr/bin) must be followed
// the way the image will see them, never out of it: destinations resolve
// with openat2(RESOLVE_IN_ROOT). Symlinks inside a copied directory are
// copied as symlinks, never followed. Owners become root:root.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "image/store.h"
#include "image/workload_spec.h"

namespace hull::image {

// hull.toml's run settings (env, cmd, workdir, user, [health],
// [[service]]) as an image config.
ImageConfig config_of(const WorkloadSpec& spec);

// Copies each entry in order; a later entry overwrites an earlier one.
Status copy_project_files(const std::string& project_dir, const std::vector<FileCopy>& files,
                          const std::string& rootfs);

}  // namespace hull::image
