#include "wire/json_fields.h"

#include "wire/messages.h"

namespace hull::wire::detail {

Fields::Fields(const json& obj, std::string context) : obj_(obj), context_(std::move(context)) {
  if (!obj_.is_object()) fail("", "not an object");
}

void Fields::fail(const std::string& key, const std::string& why) {
  if (err_) return;
  std::string where = key.empty() ? context_ : context_ + "." + key;
  err_ = make_error("invalid message", where + ": " + why);
}

const json* Fields::get(const char* key) {
  if (err_) return nullptr;
  auto it = obj_.find(key);
  if (it == obj_.end()) {
    fail(key, "missing field");
    return nullptr;
  }
  ++read_;
  keys_.push_back(key);
  return &*it;
}

// nlohmann parses non-negative integers as number_unsigned, negative ones as
// number_integer and anything with a fraction/exponent (or too large for 64
// bits) as number_float, which we never accept.
void Fields::u64(const char* key, uint64_t& out) {
  const json* v = get(key);
  if (!v) return;
  if (!v->is_number_unsigned()) return fail(key, "expected a non-negative integer");
  out = v->get<uint64_t>();
}

void Fields::u32(const char* key, uint32_t& out, uint32_t max) {
  uint64_t v = 0;
  u64(key, v);
  if (err_) return;
  if (v > max) return fail(key, "out of range (max " + std::to_string(max) + ")");
  out = static_cast<uint32_t>(v);
}

void Fields::u16(const char* key, uint16_t& out) {
  uint32_t v = 0;
  u32(key, v, UINT16_MAX);
  if (!err_) out = static_cast<uint16_t>(v);
}

void Fields::i64(const char* key, int64_t& out) {
  const json* v = get(key);
  if (!v) return;
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return fail(key, "out of range");
    out = static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    out = v->get<int64_t>();
  } else {
    fail(key, "expected an integer");
  }
}

void Fields::i32(const char* key, int32_t& out, int32_t min, int32_t max) {
  int64_t v = 0;
  i64(key, v);
  if (err_) return;
  if (v < min || v > max)
    return fail(key, "out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  out = static_cast<int32_t>(v);
}

void Fields::boolean(const char* key, bool& out) {
  const json* v = get(key);
  if (!v) return;
  if (!v->is_boolean()) return fail(key, "expected a boolean");
  out = v->get<bool>();
}

std::string check_text(const std::string& s, Text rule) {
  // nlohmann's parser already rejects ill-formed UTF-8 and lone surrogates;
  // "\u0000" is valid JSON though, and a NUL would silently truncate an
  // argv entry or path once it reaches a C API.
  if (s.size() > kMaxStringBytes) return "string over " + std::to_string(kMaxStringBytes) + " bytes";
  if (s.find('\0') != std::string::npos) return "contains a NUL byte";
  switch (rule) {
    case Text::kAny:
      return {};
    case Text::kNonEmpty:
      return s.empty() ? "must not be empty" : "";
    case Text::kAbsolutePath:
      return s.empty() || s[0] != '/' ? "must be an absolute path" : "";
    case Text::kOptionalPath:
      return !s.empty() && s[0] != '/' ? "must be empty or an absolute path" : "";
    case Text::kEnvEntry: {
      auto eq = s.find('=');
      return eq == std::string::npos || eq == 0 ? "must be KEY=VALUE" : "";
    }
    case Text::kFileName:
      if (s.empty() || s == "." || s == "..") return "must be a file name";
      return s.find('/') != std::string::npos ? "must not contain '/'" : "";
  }
  return "unknown rule";
}

void Fields::text(const char* key, std::string& out, Text rule) {
  const json* v = get(key);
  if (!v) return;
  if (!v->is_string()) return fail(key, "expected a string");
  const auto& s = v->get_ref<const std::string&>();
  if (auto why = check_text(s, rule); !why.empty()) return fail(key, why);
  out = s;
}

const json* Fields::array(const char* key, size_t max_items) {
  const json* v = get(key);
  if (!v) return nullptr;
  if (!v->is_array()) {
    fail(key, "expected an array");
    return nullptr;
  }
  if (v->size() > max_items) {
    fail(key, "more than " + std::to_string(max_items) + " items");
    return nullptr;
  }
  return v;
}

void Fields::text_list(const char* key, std::vector<std::string>& out, size_t max_items,
                       Text rule) {
  const json* v = array(key, max_items);
  if (!v) return;
  out.clear();
  out.reserve(v->size());  // bounded by max_items above
  for (size_t i = 0; i < v->size(); ++i) {
    const json& e = (*v)[i];
    std::string item_key = std::string(key) + "[" + std::to_string(i) + "]";
    if (!e.is_string()) return fail(item_key, "expected a string");
    const auto& s = e.get_ref<const std::string&>();
    if (auto why = check_text(s, rule); !why.empty()) return fail(item_key, why);
    out.push_back(s);
  }
}

Status Fields::finish(const char* also_known) {
  if (err_) return *err_;
  const size_t expected = read_ + (also_known ? 1 : 0);
  if (obj_.size() != expected) {
    // Name the first key we did not read: the most useful error for a peer
    // built from a newer schema.
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      bool known = also_known && it.key() == also_known;
      for (const char* k : keys_) known = known || it.key() == k;
      if (!known) {
        fail("", "unknown field \"" + it.key().substr(0, 64) + "\"");
        return *err_;
      }
    }
    fail("", "unknown field");
    return *err_;
  }
  return ok_status();
}

}  // namespace hull::wire::detail
