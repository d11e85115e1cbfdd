#include "policy/egress_presets.h"

namespace hull::policy {

namespace {

// Short on purpose: what an AI coding agent needs to talk to its model,
// fetch and push code, and install packages. Each name is an exact host run
// by the operator of that service (no wildcards: *.githubusercontent.com
// would include every user's GitHub Pages). Anything else is one --allow.
constexpr PresetHost kBalancedHosts[] = {
    {"api.anthropic.com", "Anthropic API (Claude)"},
    {"api.openai.com", "OpenAI API"},
    {"generativelanguage.googleapis.com", "Google Gemini API"},
    {"github.com", "git over HTTPS"},
    {"api.github.com", "GitHub API (gh, releases)"},
    {"codeload.github.com", "GitHub source archives (tarball/zipball)"},
    {"objects.githubusercontent.com", "GitHub release assets and LFS objects"},
    {"release-assets.githubusercontent.com", "GitHub release assets (newer downloads)"},
    {"raw.githubusercontent.com", "raw files from GitHub repositories"},
    {"gitlab.com", "git over HTTPS, GitLab API"},
    {"registry.npmjs.org", "npm packages"},
    {"pypi.org", "pip's package index"},
    {"files.pythonhosted.org", "pip's package files"},
    {"index.crates.io", "cargo's sparse index"},
    {"static.crates.io", "cargo's crate files"},
    {"proxy.golang.org", "Go module proxy"},
    {"sum.golang.org", "Go checksum database (go verifies every module)"},
    {"deb.debian.org", "Debian packages (hull's default image)"},
    {"security.debian.org", "Debian security updates"},
};

}  // namespace

Result<Preset> parse_preset(std::string_view name) {
  if (name == "locked") return Preset::kLocked;
  if (name == "balanced") return Preset::kBalanced;
  if (name == "open") return Preset::kOpen;
  return make_error("network preset '" + std::string(name.substr(0, 100)) + "'",
                    "unknown; use locked, balanced (the default) or open");
}

std::string_view preset_name(Preset p) {
  switch (p) {
    case Preset::kLocked:
      return "locked";
    case Preset::kBalanced:
      return "balanced";
    case Preset::kOpen:
      return "open";
  }
  return "unknown";
}

std::span<const PresetHost> balanced_hosts() { return kBalancedHosts; }

Result<EgressRule> parse_image_source(std::string_view host_port) {
  HULL_ASSIGN(EgressRule rule, parse_egress_rule(host_port));
  if (rule.host != RuleHost::kName || rule.is_request_rule()) {
    return make_error("image package source '" + std::string(host_port.substr(0, 200)) + "'",
                      "only a host name (with an optional :port) is taken from an image; "
                      "allow addresses or wildcards with --allow");
  }
  return rule;
}

}  // namespace hull::policy
