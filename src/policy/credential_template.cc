// Header value templates: "Bearer {secret:openai}" parsed into parts, and
// rendered into the one buffer (SecretBytes) that holds the real value.
#include <algorithm>
#include <vector>

#include "policy/credential_rules.h"

namespace hull::policy {

namespace {

constexpr size_t kMaxTemplateBytes = 1024;

// What a literal may hold: visible ASCII, space and tab. Anything else would
// either break the header (CR, LF, NUL) or mean different bytes to
// different HTTP stacks (obs-text).
bool literal_char(char c) { return c == '\t' || (c >= 0x20 && c < 0x7f); }
bool control_byte(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

// RFC 7617 user-id: no ':' (it ends the user), nothing a header cannot hold.
bool valid_basic_user(std::string_view u) {
  return !u.empty() && u.size() <= 64 && std::all_of(u.begin(), u.end(), [](char c) {
    return c > 0x20 && c < 0x7f && c != ':' && c != '{' && c != '}';
  });
}

Result<TemplatePart> parse_reference(std::string_view ref, const std::string& where) {
  auto bad = [&](const std::string& why) {
    return make_error(where + ": '{" + std::string(ref) + "}' " + why,
                      "write {secret:NAME} or {basic:USER:NAME}; '{{' and '}}' are literal braces");
  };
  if (ref.starts_with("secret:")) {
    std::string name(ref.substr(7));
    if (!valid_secret_name(name))
      return bad("names no valid secret (a-z, 0-9, '_', '-'; up to 64)");
    return TemplatePart{TemplatePart::Kind::kSecret, name, {}};
  }
  if (ref.starts_with("basic:")) {
    std::string_view rest = ref.substr(6);
    size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return bad("needs a user and a secret: {basic:USER:NAME}");
    std::string user(rest.substr(0, colon)), name(rest.substr(colon + 1));
    if (!valid_basic_user(user))
      return bad("has no valid user (1 to 64 visible characters, no ':' or braces)");
    if (!valid_secret_name(name))
      return bad("names no valid secret (a-z, 0-9, '_', '-'; up to 64)");
    return TemplatePart{TemplatePart::Kind::kBasic, name, user};
  }
  return bad("is not a reference hull knows");
}

void append_text(std::vector<TemplatePart>& parts, char c) {
  if (parts.empty() || parts.back().kind != TemplatePart::Kind::kText) parts.push_back({});
  parts.back().text += c;
}

std::string escape_braces(std::string_view s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '{' || c == '}') out += c;
  }
  return out;
}

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_size(size_t n) { return (n + 2) / 3 * 4; }

// Standard base64 (with padding) of the bytes `at(0) .. at(n-1)`, appended
// to `out`: read through a function so "user:value" is never assembled in
// a buffer of its own.
template <class ByteAt>
void append_base64(SecretBytes& out, size_t n, ByteAt at) {
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = static_cast<uint32_t>(at(i)) << 16;
    if (i + 1 < n) v |= static_cast<uint32_t>(at(i + 1)) << 8;
    if (i + 2 < n) v |= static_cast<uint32_t>(at(i + 2));
    char quad[4] = {kBase64[(v >> 18) & 63], kBase64[(v >> 12) & 63],
                    i + 1 < n ? kBase64[(v >> 6) & 63] : '=', i + 2 < n ? kBase64[v & 63] : '='};
    out.append(std::string_view(quad, 4));
  }
}

}  // namespace

Result<std::vector<TemplatePart>> parse_template(std::string_view text, const std::string& where) {
  if (text.size() > kMaxTemplateBytes)
    return make_error(where + ": the header value template is over 1 KiB");
  std::vector<TemplatePart> parts;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      append_text(parts, '{');
      ++i;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      append_text(parts, '}');
      ++i;
    } else if (c == '{') {
      size_t close = text.find('}', i);
      if (close == std::string_view::npos)
        return make_error(where + ": a '{' is never closed", "write '{{' for a literal brace");
      HULL_ASSIGN(TemplatePart ref, parse_reference(text.substr(i + 1, close - i - 1), where));
      parts.push_back(std::move(ref));
      i = close;
    } else if (c == '}') {
      return make_error(where + ": a '}' closes nothing", "write '}}' for a literal brace");
    } else if (!literal_char(c)) {
      return make_error(where + ": the header value template holds a control or non-ASCII byte",
                        "use printable ASCII; the secret itself goes in {secret:NAME}");
    } else {
      append_text(parts, c);
    }
  }
  bool names_a_secret = std::any_of(parts.begin(), parts.end(), [](const TemplatePart& p) {
    return p.kind != TemplatePart::Kind::kText;
  });
  if (!names_a_secret)
    return make_error(
        where + ": the header value names no secret",
        "put {secret:NAME} where the key goes (hull secret set NAME stores it); a fixed header "
        "needs no credential rule");
  return parts;
}

std::string template_text(const std::vector<TemplatePart>& parts) {
  std::string out;
  for (const auto& p : parts) {
    switch (p.kind) {
      case TemplatePart::Kind::kText:
        out += escape_braces(p.text);
        break;
      case TemplatePart::Kind::kSecret:
        out += "{secret:" + p.text + "}";
        break;
      case TemplatePart::Kind::kBasic:
        out += "{basic:" + p.user + ":" + p.text + "}";
        break;
    }
  }
  return out;
}

Result<SecretBytes> render_header_value(const CredentialRule& rule, const SecretLookup& lookup) {
  // Fetch every secret first to size the one buffer the value is built in;
  // `values` wipes them on return.
  std::vector<SecretBytes> values;
  size_t total = 0;
  for (const auto& p : rule.value) {
    switch (p.kind) {
      case TemplatePart::Kind::kText:
        values.emplace_back();
        total += p.text.size();
        break;
      case TemplatePart::Kind::kSecret:
      case TemplatePart::Kind::kBasic: {
        auto v = lookup(p.text);
        if (!v)
          return make_error("credential for " + rule.host + " (" + rule.origin + "): secret '" +
                            p.text + "': " + v.error().message());
        const bool raw = p.kind == TemplatePart::Kind::kSecret;
        // Base64 cannot carry a control byte into the header; the raw value can.
        if (raw && std::any_of(v->view().begin(), v->view().end(),
                               [](char c) { return control_byte(static_cast<unsigned char>(c)); }))
          return make_error(
              "credential for " + rule.host + " (" + rule.origin + "): secret '" + p.text +
                  "' holds a control byte (CR, LF, NUL or another) that would break the " +
                  rule.header + " header",
              "hull secret set " + p.text + " again with the bare key");
        total += raw ? v->size() : base64_size(p.user.size() + 1 + v->size());
        values.push_back(std::move(*v));
        break;
      }
    }
  }
  SecretBytes out(total);
  for (size_t i = 0; i < rule.value.size(); ++i) {
    const TemplatePart& p = rule.value[i];
    switch (p.kind) {
      case TemplatePart::Kind::kText:
        out.append(p.text);
        break;
      case TemplatePart::Kind::kSecret:
        out.append(values[i].view());
        break;
      case TemplatePart::Kind::kBasic: {
        std::string_view user = p.user, secret = values[i].view();
        append_base64(out, user.size() + 1 + secret.size(), [&](size_t k) -> unsigned char {
          if (k < user.size()) return static_cast<unsigned char>(user[k]);
          if (k == user.size()) return ':';
          return static_cast<unsigned char>(secret[k - user.size() - 1]);
        });
        break;
      }
    }
  }
  return out;
}

}  // namespace hull::policy
