// `hull doctor`: what this host can do, honestly labelled. Exit 0 when the
// namespace backend is usable, 1 otherwise.
#include <cstdio>

#include "backend/backend.h"
#include "base/command.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "image/default_image.h"

namespace hull::cli {

int cmd_doctor(bool json) {
  std::vector<backend::Probe> probes = backend::probe_namespace_backend();
  bool ns_ok = !probes.empty();
  for (const auto& p : probes) ns_ok = ns_ok && p.ok;
  std::string mmdebstrap = find_program("mmdebstrap");
  std::string cached = image::cached_default_rootfs();
  const char* microvm_detail = "not available yet (issue 3)";

  if (json) {
    nlohmann::json j;
    auto arr = nlohmann::json::array();
    for (const auto& p : probes) arr.push_back({{"name", p.name}, {"ok", p.ok}, {"detail", p.detail}});
    j["backends"] = {
        {"namespace", {{"usable", ns_ok}, {"tier", "namespace"}, {"probes", arr}}},
        {"microvm", {{"usable", false}, {"detail", microvm_detail}}},
    };
    j["mmdebstrap"] = {{"ok", !mmdebstrap.empty()}, {"path", mmdebstrap}};
    j["default_image"] = {{"cached", !cached.empty()}, {"path", cached}};
    j["version"] = HULL_VERSION;
    print_json(j);
    return ns_ok ? 0 : 1;
  }
  auto mark = [](bool ok) { return ok ? "ok  " : "FAIL"; };
  std::printf("namespace backend (tier: namespace): %s\n", ns_ok ? "usable" : "NOT usable");
  for (const auto& p : probes) std::printf("  [%s] %-16s %s\n", mark(p.ok), p.name.c_str(), p.detail.c_str());
  std::printf("microvm backend: unavailable — %s\n", microvm_detail);
  std::printf("image builder:\n  [%s] %-16s %s\n", mark(!mmdebstrap.empty()), "mmdebstrap",
              mmdebstrap.empty() ? "not found (apt-get install mmdebstrap)" : mmdebstrap.c_str());
  std::printf("default image:\n  [%s] %-16s %s\n", cached.empty() ? "--  " : "ok  ", "cached",
              cached.empty() ? "not built yet (hull image prepare-default)" : cached.c_str());
  return ns_ok ? 0 : 1;
}

}  // namespace hull::cli
