// Private to wire: strict readers for one JSON object's fields. Every
// message field is required and typed exactly; the first problem is kept and
// later reads become no-ops, so a schema reads as a flat list of fields.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace hull::wire::detail {

using json = nlohmann::json;

// What a string field may contain, beyond valid UTF-8 without NUL bytes
// (which every string must be).
enum class Text {
  kAny,           // free text
  kNonEmpty,      // e.g. argv entries, role
  kAbsolutePath,  // starts with '/'
  kOptionalPath,  // empty, or starts with '/'
  kEnvEntry,      // "K=V" with a non-empty K
  kFileName,      // one path component: non-empty, no '/', not "." or ".."
};

class Fields {
 public:
  // `obj` must be an object; `context` names the message in errors.
  Fields(const json& obj, std::string context);

  void u16(const char* key, uint16_t& out);
  void u32(const char* key, uint32_t& out, uint32_t max = UINT32_MAX);
  void u64(const char* key, uint64_t& out);
  void i32(const char* key, int32_t& out, int32_t min = INT32_MIN, int32_t max = INT32_MAX);
  void i64(const char* key, int64_t& out);
  void boolean(const char* key, bool& out);
  void text(const char* key, std::string& out, Text rule = Text::kAny);
  void text_list(const char* key, std::vector<std::string>& out, size_t max_items, Text rule);
  // Enum stored as a string from `names` (index = enum value).
  template <class E, size_t N>
  void name(const char* key, E& out, const char* const (&names)[N]) {
    std::string s;
    text(key, s);
    if (err_) return;
    for (size_t i = 0; i < N; ++i) {
      if (s == names[i]) {
        out = static_cast<E>(i);
        return;
      }
    }
    fail(key, "unknown value \"" + s + "\"");
  }
  // The raw array at `key` (for nested objects), or nullptr after an error.
  const json* array(const char* key, size_t max_items);

  void fail(const std::string& key, const std::string& why);
  bool ok() const { return !err_; }
  // Checks that every key of the object was read (plus `also_known`, a key
  // the caller handled itself, e.g. "type").
  Status finish(const char* also_known = nullptr);

 private:
  const json* get(const char* key);

  const json& obj_;
  std::string context_;
  size_t read_ = 0;
  std::vector<const char*> keys_;
  std::optional<Error> err_;
};

// Checks one string against a rule; returns why it is rejected, or empty.
std::string check_text(const std::string& s, Text rule);

}  // namespace hull::wire::detail
