// What a sandbox's egress process is told when it starts (the first message
// on its link): the sandbox's network policy as the user wrote it, and the
// limits. The process parses the rules itself (src/policy), so that a rule
// that does not parse is refused before the sandbox starts, by the CLI,
// and again here.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.h"

namespace hull::egress {

struct TestHost {  // test-only resolver override: name → addresses
  std::string name;
  std::vector<std::string> addresses;
};

struct EgressConfig {
  std::string sandbox;                 // its name, for messages
  std::string preset = "balanced";     // locked | balanced | open
  std::vector<std::string> allow;      // --allow RULE
  std::vector<std::string> deny;       // --deny RULE
  std::vector<std::string> package_hosts;  // the image's package sources (balanced)
  // Test-only (set from HULL_TEST_EGRESS_HOSTS / HULL_TEST_EGRESS_LOOPBACK by
  // the supervisor): names resolved without the system resolver, and exact
  // loopback host:port pairs the address check lets through.
  std::vector<TestHost> test_hosts;
  std::vector<std::string> test_loopback;  // "127.0.0.1:43123"
  uint32_t max_connections = 256;      // open at once
  uint32_t header_timeout_ms = 10000;  // to send a complete request head
  uint32_t idle_timeout_ms = 300000;   // no byte either way
  uint32_t connect_timeout_ms = 10000;
};

// As the link's {"config": ...} message carries it.
nlohmann::json config_to_json(const EgressConfig& c);
Result<EgressConfig> config_from_json(const nlohmann::json& j);

// HULL_TEST_EGRESS_HOSTS="a.test=127.0.0.1,b.test=127.0.0.1;::1" (names
// separated by commas, addresses of one name by ';') and
// HULL_TEST_EGRESS_LOOPBACK="127.0.0.1:4000,127.0.0.1:4001", from the
// environment; empty when unset. Tests only.
void apply_test_overrides_from_env(EgressConfig& c);

// Parses every rule as the egress process will (so a bad rule is refused by
// `hull run`, before the sandbox starts) and checks the preset name.
Status check_rules(const std::string& preset, const std::vector<std::string>& allow,
                   const std::vector<std::string>& deny);

}  // namespace hull::egress
