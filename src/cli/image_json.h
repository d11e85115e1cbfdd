// The JSON form of a store image, shared by `hull image ls/inspect/import/build`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "image/store.h"

namespace hull::cli {

nlohmann::json image_record_json(const image::ImageRecord& r, const std::vector<std::string>& tags);

}  // namespace hull::cli
