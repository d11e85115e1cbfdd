// Human units, one grammar for the CLI flags and hull.toml:
//   sizes      "512m", "2g", "1.5g", "4096" (bytes); k/m/g/t are powers of
//              1024; a trailing "b" or "ib" is allowed ("512mb", "2gib")
//   durations  "500ms", "30s", "5m", "1h"; a bare number is seconds unless
//              the caller requires a unit; 1 ms to about 49 days
#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace hull {

Result<uint64_t> parse_size(std::string_view s);
Result<uint32_t> parse_duration_ms(std::string_view s, bool unit_required = false);

}  // namespace hull
