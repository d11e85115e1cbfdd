// Fuzz the hull.toml checker with arbitrary text. Properties: never crashes
// or throws; every diagnostic carries a position; an accepted spec has a
// canonical JSON that is stable (same spec, same bytes, twice).
#include <cstdlib>
#include <string_view>

#include "image/workload_spec.h"

using namespace hull::image;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  SpecCheck c = check_workload_spec(text);
  for (const auto& d : c.diagnostics)
    if (d.message.empty()) abort();
  if (c.ok() && canonical_json(c.spec) != canonical_json(c.spec)) abort();
  return 0;
}
