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
  std::vector<backend::Probe> vm_probes = backend::probe_microvm_backend();
  bool vm_ok = !vm_probes.empty();
  for (const auto& p : vm_probes) vm_ok = vm_ok && p.ok;
  // One line per backend: why it is (not) usable, and at which tier.
  auto first_failure = [](const std::vector<backend::Probe>& ps) {
    for (const auto& p : ps)
      if (!p.ok) return p.name + ": " + p.detail;
    return std::string();
  };
  std::string vm_tier = "microvm-tcg", vm_reason = first_failure(vm_probes);
  if (vm_ok) {
    auto t = backend::microvm_tier();  // cached: the probes above just ran it
    if (t) {
      vm_tier = backend::tier_name(t->tier);
      vm_reason = t->reason;
    }
  }
  std::string ns_reason = ns_ok ? "every host feature it needs is present" : first_failure(probes);
  const char* auto_pick = vm_ok ? "microvm" : ns_ok ? "namespace" : "none";

  if (json) {
    nlohmann::json j;
    auto as_json = [](const std::vector<backend::Probe>& ps) {
      auto arr = nlohmann::json::array();
      for (const auto& p : ps) arr.push_back({{"name", p.name}, {"ok", p.ok}, {"detail", p.detail}});
      return arr;
    };
    j["backends"] = {
        {"namespace", {{"usable", ns_ok}, {"tier", "namespace"}, {"reason", ns_reason}, {"probes", as_json(probes)}}},
        {"microvm", {{"usable", vm_ok}, {"tier", vm_tier}, {"reason", vm_reason}, {"probes", as_json(vm_probes)}}},
    };
    j["auto"] = auto_pick;
    j["mmdebstrap"] = {{"ok", !mmdebstrap.empty()}, {"path", mmdebstrap}};
    j["default_image"] = {{"cached", !cached.empty()}, {"path", cached}};
    j["version"] = HULL_VERSION;
    print_json(j);
    return ns_ok ? 0 : 1;
  }
  auto mark = [](bool ok) { return ok ? "ok  " : "FAIL"; };
  std::printf("namespace backend (tier: namespace): %s\n", ns_ok ? "usable" : ("NOT usable: " + ns_reason).c_str());
  for (const auto& p : probes) std::printf("  [%s] %-16s %s\n", mark(p.ok), p.name.c_str(), p.detail.c_str());
  std::printf("microvm backend (tier: %s): %s\n", vm_tier.c_str(), vm_ok ? "usable" : ("NOT usable: " + vm_reason).c_str());
  for (const auto& p : vm_probes) std::printf("  [%s] %-16s %s\n", mark(p.ok), p.name.c_str(), p.detail.c_str());
  std::printf("image builder:\n  [%s] %-16s %s\n", mark(!mmdebstrap.empty()), "mmdebstrap",
              mmdebstrap.empty() ? "not found (apt-get install mmdebstrap)" : mmdebstrap.c_str());
  std::printf("default image:\n  [%s] %-16s %s\n", cached.empty() ? "--  " : "ok  ", "cached",
              cached.empty() ? "not built yet (hull image prepare-default)" : cached.c_str());
  std::printf("--backend auto picks: %s\n", auto_pick);
  return ns_ok ? 0 : 1;
}

}  // namespace hull::cli
