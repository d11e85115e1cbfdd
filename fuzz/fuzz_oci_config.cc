// Fuzz the run settings hull takes from an imported image's config JSON (an
// archive's bytes, someone else's). Properties: never crashes or throws
// (no const operator[] on a missing key, no get<> of a wrong type); what it
// returns is within the limits hull.toml itself enforces.
#include <cstdlib>
#include <string>

#include "image/oci_config.h"

using namespace hull::image;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  const ImageConfig c = oci_run_config(j);
  for (const auto& [k, v] : c.env)
    if (k.empty() || k.find('=') != std::string::npos) abort();
  if (c.workdir.empty() || c.user.empty()) abort();
  if (c.health) {
    const HealthCheck& h = *c.health;
    if (h.cmd.empty()) abort();
    if (h.interval_ms < 1 || h.interval_ms > 24u * 3600 * 1000) abort();
    if (h.timeout_ms < 1 || h.timeout_ms > 24u * 3600 * 1000) abort();
    if (h.retries < 1 || h.retries > 1000) abort();
  }
  if (!c.services.empty()) abort();  // an archive cannot bring services
  return 0;
}
