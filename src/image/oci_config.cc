// Reading an image config's run settings. See oci_config.h.
#include "image/oci_config.h"

namespace hull::image {

namespace {

using Json = nlohmann::json;

// Docker's Healthcheck: Test is ["CMD", argv...], ["CMD-SHELL", "cmd"] or
// ["NONE"]; durations in nanoseconds, 0 meaning the default. Values out of
// hull.toml's ranges keep its defaults rather than fail the import.
std::optional<HealthCheck> health_of(const Json& cfg) {
  const auto hc = cfg.find("Healthcheck");
  if (hc == cfg.end() || !hc->is_object()) return std::nullopt;
  const auto test = hc->find("Test");
  if (test == hc->end() || !test->is_array() || test->empty() || !(*test)[0].is_string()) return std::nullopt;
  const std::string kind = (*test)[0].get<std::string>();
  HealthCheck h;
  if (kind == "CMD") {
    for (size_t i = 1; i < test->size(); ++i)
      if ((*test)[i].is_string()) h.cmd.push_back((*test)[i].get<std::string>());
  } else if (kind == "CMD-SHELL" && test->size() == 2 && (*test)[1].is_string()) {
    h.cmd = {"/bin/sh", "-c", (*test)[1].get<std::string>()};
  }
  if (h.cmd.empty()) return std::nullopt;
  auto ms = [&](const char* key, uint32_t dflt) {
    const auto v = hc->find(key);
    if (v == hc->end() || !v->is_number_unsigned()) return dflt;
    const uint64_t n = v->get<uint64_t>() / 1'000'000;
    return n >= 1 && n <= 24ull * 3600 * 1000 ? static_cast<uint32_t>(n) : dflt;
  };
  h.interval_ms = ms("Interval", h.interval_ms);
  h.timeout_ms = ms("Timeout", h.timeout_ms);
  if (const auto r = hc->find("Retries"); r != hc->end() && r->is_number_unsigned()) {
    const uint64_t n = r->get<uint64_t>();
    if (n >= 1 && n <= 1000) h.retries = static_cast<uint32_t>(n);
  }
  return h;
}

}  // namespace

ImageConfig oci_run_config(const Json& image_config) {
  ImageConfig c;
  if (!image_config.is_object()) return c;
  auto it = image_config.find("config");
  if (it == image_config.end()) it = image_config.find("Config");
  if (it == image_config.end() || !it->is_object()) return c;
  const Json& cfg = *it;
  for (const auto& e : cfg.value("Env", Json::array())) {
    if (!e.is_string()) continue;
    const std::string kv = e.get<std::string>();
    size_t eq = kv.find('=');
    if (eq != std::string::npos && eq > 0) c.env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  for (const char* key : {"Entrypoint", "Cmd"})
    for (const auto& a : cfg.value(key, Json::array()))
      if (a.is_string()) c.cmd.push_back(a.get<std::string>());
  for (const auto& [key, field] : {std::pair{"WorkingDir", &c.workdir}, std::pair{"User", &c.user}})
    if (const auto v = cfg.find(key); v != cfg.end() && v->is_string() && !v->get<std::string>().empty())
      *field = v->get<std::string>();
  c.health = health_of(cfg);
  return c;
}


}  // namespace hull::image
