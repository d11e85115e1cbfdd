// Network presets: what a sandbox may reach before any --allow / --deny.
//   locked    nothing
//   balanced  (the default) the model APIs and code hosts of one table,
//             plus the package sources the image is configured to use
//   open      every name, on any port; still never a non-public address
//             or an IP literal (only a CIDR rule reaches those)
#pragma once

#include <span>
#include <string_view>

#include "base/result.h"
#include "policy/egress_rules.h"

namespace hull::policy {

enum class Preset { kLocked, kBalanced, kOpen };

Result<Preset> parse_preset(std::string_view name);  // "locked" | "balanced" | "open"
std::string_view preset_name(Preset p);

struct PresetHost {
  const char* host;  // exact name, any port
  const char* why;   // one line: what an agent needs it for
};
// The balanced table, as written in egress_presets.cc.
std::span<const PresetHost> balanced_hosts();

// A package source the image is configured to use (from its apt sources,
// pip and npm configuration), as "name" or "name:port". Only names: an
// image's configuration must not open a CIDR or a wildcard.
Result<EgressRule> parse_image_source(std::string_view host_port);

}  // namespace hull::policy
