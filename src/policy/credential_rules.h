// Credential rules: which header the egress process sets, on requests to
// which host, from which secret (issue 13 item 5). Pure code: parsing,
// the built-in provider table, and rendering a header value from secrets a
// caller looks up (the egress process, from egress/secret_store.h).
//
// `--credential` takes one of:
//   PROVIDER                  a built-in rule, fed by the secret of the same
//                             name:  --credential anthropic
//   PROVIDER=SECRET           the same rule fed by another secret:
//                             --credential github=github-work
//   HOST[:PORT]=HEADER:TEMPLATE   a rule of your own:
//       --credential 'api.example.com=Authorization:Bearer {secret:example}'
//       HOST: one exact DNS name (lower-cased, a trailing dot dropped; no
//         wildcard — a key goes to exactly the hosts named) or an IP literal
//         (a.b.c.d, [v6]); PORT: default 443.
//       HEADER: an HTTP token; never one that frames or routes the request
//         (Host, Content-Length, Transfer-Encoding, Connection, Proxy-*, ...).
//       TEMPLATE: printable ASCII; spaces after the ':' are dropped. It must
//         reference a secret at least once:
//           {secret:NAME}        the secret's value
//           {basic:USER:NAME}    base64("USER:" + value), for
//                                "Authorization:Basic {basic:USER:NAME}"
//         "{{" and "}}" are literal braces; any other brace is refused.
// The two forms are told apart by what follows '=': a ':' makes it a rule
// of your own.
//
// Built-in rules are enabled only by --credential, never by a secret merely
// existing in the store: a key leaves the host only for a sandbox that asks.
// Each also sets the provider's usual environment variables inside the
// sandbox to a placeholder ("hull-placeholder-anthropic"), so the agent
// starts; the real value is put in by the egress process, which replaces every
// header of the rule's name the client sent.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/secret_bytes.h"

namespace hull::policy {

// [a-z0-9][a-z0-9_-]{0,63}: a secret's name (and its file name in the store).
bool valid_secret_name(std::string_view name);

// One piece of a header value template.
struct TemplatePart {
  enum class Kind { kText, kSecret, kBasic };
  Kind kind = Kind::kText;
  std::string text;  // kText: the literal text; kSecret, kBasic: the secret's name
  std::string user;  // kBasic: the user name
  bool operator==(const TemplatePart&) const = default;
};

struct CredentialRule {
  std::string host;  // a DNS name, or an IP literal (IPv6 without brackets)
  uint16_t port = 443;
  std::string header;  // as written; HTTP compares names case-insensitively
  std::vector<TemplatePart> value;
  std::string provider;  // the built-in provider ("github"), empty for a rule of your own
  std::string origin;    // the --credential argument it came from

  std::vector<std::string> secrets() const;  // the secret names it reads
  // "api.openai.com:443 Authorization: Bearer {secret:openai}": the template, never a value.
  std::string describe() const;
};

struct EnvPlaceholder {
  std::string name;   // ANTHROPIC_API_KEY
  std::string value;  // hull-placeholder-anthropic
  bool operator==(const EnvPlaceholder&) const = default;
};

// What a sandbox's --credential arguments add up to.
struct CredentialSet {
  std::vector<CredentialRule> rules;
  std::vector<EnvPlaceholder> env;  // for every exec; placeholders, never secrets

  std::vector<std::string> secrets() const;  // every secret needed, sorted, once each
  std::vector<std::string> hosts() const;    // every host intercepted, sorted, once each
  // The rules for a request to host:port; `host` normalised as rule hosts are.
  std::vector<const CredentialRule*> rules_for(std::string_view host, uint16_t port) const;
};

// One --credential argument. Errors quote the argument and say what is wrong.
Result<CredentialSet> parse_credential(std::string_view arg);
// All of a sandbox's; refuses two rules setting one header on one host:port
// differently (the same argument twice is fine).
Result<CredentialSet> parse_credentials(std::span<const std::string> args);

// A built-in provider: its rules, written with the provider's own name as
// the secret, and the variables that get a placeholder.
struct ProviderHeader {
  std::string_view host;
  std::string_view header;
  std::string_view value;  // template, e.g. "Bearer {secret:openai}"
};
struct Provider {
  std::string_view name;
  std::vector<ProviderHeader> headers;
  std::vector<std::string_view> env;
  std::string_view note;  // why these headers (shown in docs and help)
};
std::span<const Provider> builtin_providers();
std::string placeholder_for(std::string_view provider);  // "hull-placeholder-<provider>"

// Template text → parts (the grammar above). `where` prefixes errors.
Result<std::vector<TemplatePart>> parse_template(std::string_view text, const std::string& where);
// Parts → template text, braces escaped: parse_template(template_text(p)) == p.
std::string template_text(const std::vector<TemplatePart>& parts);

// Looks a secret up by name (the egress process: SecretStore::get).
using SecretLookup = std::function<Result<SecretBytes>(const std::string& name)>;
// The header value for one request. A value that would put a control byte
// (CR, LF, NUL, ...; HTAB is fine) into the header is refused: it could
// split the request. Errors name the rule and the secret, never a value.
Result<SecretBytes> render_header_value(const CredentialRule& rule, const SecretLookup& lookup);

}  // namespace hull::policy
