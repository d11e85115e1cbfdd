// The run settings of an OCI / `docker save` image config (its "config"
// object: Env, Entrypoint + Cmd, WorkingDir, User, Healthcheck) as hull's
// ImageConfig. The JSON comes from an archive someone handed us, so it is
// read with find()/value() only (never a const operator[] on a key that may
// be missing), wrong types are ignored, and numbers out of range keep
// hull.toml's defaults. Fuzzed by fuzz/fuzz_oci_config.cc.
#pragma once

#include <nlohmann/json.hpp>

#include "image/store.h"

namespace hull::image {

ImageConfig oci_run_config(const nlohmann::json& image_config);

}  // namespace hull::image
