// Fuzz the run settings hull takes from an imported image's config JSON (an
// archive's bytes, someone else's), parsed the way import parses it
// (parse_archive_json). Properties: never crashes or throws (no const
// operator[] on a missing key, no get<> of a wrong type, no recursion deeper
// than the nesting bound); the bound refuses exactly the documents nested
// deeper than it (checked against nlohmann's own SAX parser, which does not
// recurse); what it returns is within the limits hull.toml itself enforces.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "image/archive_json.h"
#include "image/oci_config.h"

using namespace hull::image;
using Json = nlohmann::json;

namespace {

// The depth of a document as nlohmann's parser sees it; false if it refuses it.
struct DepthSax : nlohmann::json_sax<Json> {
  size_t depth = 0, deepest = 0;
  bool open() {
    deepest = std::max(deepest, ++depth);
    return true;
  }
  bool close() {
    --depth;
    return true;
  }
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return open(); }
  bool key(string_t&) override { return true; }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_archive_json(text, "fuzz input");
  DepthSax sax;
  // nlohmann takes a NUL byte for the end of input; hull refuses any.
  const bool valid = text.find('\0') == std::string::npos && Json::sax_parse(text, &sax);
  if (parsed.ok() != (valid && sax.deepest <= kMaxArchiveJsonDepth)) abort();
  if (!parsed.ok()) return 0;
  const Json copy = parsed.value();  // copies recurse once per level: bounded now
  const ImageConfig c = oci_run_config(copy);
  for (const auto& [k, v] : c.env)
    if (k.empty() || k.find('=') != std::string::npos) abort();
  if (c.workdir.empty() || c.user.empty()) abort();
  if (c.health) {
    const HealthCheck& h = *c.health;
    if (h.cmd.empty()) abort();
    if (h.interval_ms < 1 || h.interval_ms > 24u * 3600 * 1000) abort();
    if (h.timeout_ms < 1 || h.timeout_ms > 24u * 3600 * 1000) abort();
    if (h.retries < 1 || h.retries > 1000) abort();
  }
  if (!c.services.empty()) abort();  // an archive cannot bring services
  return 0;
}
