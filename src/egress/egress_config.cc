#include "egress/egress_config.h"

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "policy/egress_presets.h"
#include "policy/egress_rules.h"

namespace hull::egress {

using Json = nlohmann::json;

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

Json config_to_json(const EgressConfig& c) {
  Json hosts = Json::array();
  for (const auto& h : c.test_hosts) hosts.push_back({{"name", h.name}, {"addresses", h.addresses}});
  Json j = {{"sandbox", c.sandbox},
            {"preset", c.preset},
            {"allow", c.allow},
            {"deny", c.deny},
            {"package_hosts", c.package_hosts},
            {"test_hosts", hosts},
            {"test_loopback", c.test_loopback},
            {"max_connections", c.max_connections},
            {"header_timeout_ms", c.header_timeout_ms},
            {"idle_timeout_ms", c.idle_timeout_ms},
            {"connect_timeout_ms", c.connect_timeout_ms}};
  return j;
}

// The supervisor wrote this (the host's own process): a missing or mistyped
// field is a bug, not an attack, but is still an error rather than a crash.
Result<EgressConfig> config_from_json(const Json& j) try {
  EgressConfig c;
  c.sandbox = j.at("sandbox").get<std::string>();
  c.preset = j.at("preset").get<std::string>();
  c.allow = j.at("allow").get<std::vector<std::string>>();
  c.deny = j.at("deny").get<std::vector<std::string>>();
  c.package_hosts = j.at("package_hosts").get<std::vector<std::string>>();
  for (const auto& h : j.at("test_hosts"))
    c.test_hosts.push_back({h.at("name").get<std::string>(), h.at("addresses").get<std::vector<std::string>>()});
  c.test_loopback = j.at("test_loopback").get<std::vector<std::string>>();
  c.max_connections = j.at("max_connections").get<uint32_t>();
  c.header_timeout_ms = j.at("header_timeout_ms").get<uint32_t>();
  c.idle_timeout_ms = j.at("idle_timeout_ms").get<uint32_t>();
  c.connect_timeout_ms = j.at("connect_timeout_ms").get<uint32_t>();
  return c;
} catch (const std::exception& e) {
  return make_error("egress config", e.what());
}

void apply_test_overrides_from_env(EgressConfig& c) {
  if (const char* hosts = std::getenv("HULL_TEST_EGRESS_HOSTS")) {
    for (const auto& entry : split(hosts, ',')) {
      auto eq = entry.find('=');
      if (eq == std::string::npos) continue;
      c.test_hosts.push_back({entry.substr(0, eq), split(entry.substr(eq + 1), ';')});
    }
  }
  if (const char* lo = std::getenv("HULL_TEST_EGRESS_LOOPBACK")) c.test_loopback = split(lo, ',');
}

}  // namespace hull::egress

namespace hull::egress {

Status check_rules(const std::string& preset, const std::vector<std::string>& allow,
                   const std::vector<std::string>& deny) {
  if (auto p = policy::parse_preset(preset); !p) return p.error();
  for (const auto* list : {&allow, &deny}) {
    const char* flag = list == &allow ? "--allow" : "--deny";
    for (const auto& r : *list)
      if (auto rule = policy::parse_egress_rule(r); !rule)
        return make_error(std::string("bad ") + flag + " '" + r + "'", rule.error().message());
  }
  return ok_status();
}

}  // namespace hull::egress
