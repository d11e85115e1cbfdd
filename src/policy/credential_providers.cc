// The built-in credential providers, as data: `--credential NAME` turns on
// a row. Templates name the provider's own secret; `--credential
// NAME=SECRET` reads another one instead. Every host here is intercepted
// (TLS terminated by the sandbox's CA) once its row is on, and only then.
#include "policy/credential_rules.h"

namespace hull::policy {

std::span<const Provider> builtin_providers() {
  static const std::vector<Provider> kProviders = {
      {"anthropic",
       {{"api.anthropic.com", "x-api-key", "{secret:anthropic}"}},
       {"ANTHROPIC_API_KEY"},
       "the Messages API's key header (clients using ANTHROPIC_AUTH_TOKEN's Bearer header need a "
       "rule of their own)"},
      {"openai",
       {{"api.openai.com", "Authorization", "Bearer {secret:openai}"}},
       {"OPENAI_API_KEY"},
       "the OpenAI API's Bearer key"},
      {"gemini",
       {{"generativelanguage.googleapis.com", "x-goog-api-key", "{secret:gemini}"}},
       // Google's SDKs read either; google-genai prefers GOOGLE_API_KEY when both are set.
       {"GEMINI_API_KEY", "GOOGLE_API_KEY"},
       "the Gemini API's key header; a client that puts the key in the URL (?key=) is not helped"},
      {"github",
       {{"api.github.com", "Authorization", "Bearer {secret:github}"},
        {"uploads.github.com", "Authorization", "Bearer {secret:github}"},
        // git over smart HTTP speaks Basic auth only; GitHub takes a token as
        // the password with the user x-access-token (what actions/checkout sends).
        {"github.com", "Authorization", "Basic {basic:x-access-token:github}"}},
       {"GH_TOKEN", "GITHUB_TOKEN"},
       "the REST/GraphQL API and release uploads get the token as Bearer; git clone/fetch/push "
       "over HTTPS to "
       "github.com gets it as Basic x-access-token:TOKEN"},
  };
  return kProviders;
}

}  // namespace hull::policy
