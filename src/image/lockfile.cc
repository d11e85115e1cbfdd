#include "image/lockfile.h"

#include <ctime>
#include <nlohmann/json.hpp>

#include "base/sys.h"

namespace hull::image {

namespace {

using Json = nlohmann::json;

constexpr size_t kMaxLockBytes = 16u << 20;
constexpr size_t kMaxPackages = 20000;

bool is_hex64(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

bool printable_line(const std::string& s) {
  if (s.empty() || s.size() > 1024) return false;
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

}  // namespace

std::string lock_to_text(const DebianLock& lock) {
  Json pk = Json::array();
  for (const auto& p : lock.packages)
    pk.push_back({{"name", p.name}, {"version", p.version}, {"arch", p.arch}, {"sha256", p.sha256}, {"size", p.size}});
  Json rel = Json::array();
  for (const auto& r : lock.releases) rel.push_back({{"source", r.source}, {"date", r.date}});
  Json j = {{"lock_version", kLockVersion},
            {"builder", "debian"},
            {"spec_digest", lock.spec_digest},
            {"suite", lock.suite},
            {"variant", lock.variant},
            {"architecture", lock.architecture},
            {"requested", lock.requested},
            {"sources", lock.sources},
            {"releases", rel},
            {"source_date_epoch", lock.source_date_epoch},
            {"packages", pk}};
  // One package per line: a version bump is a one-line diff in review.
  std::string out = "{\n";
  bool first = true;
  for (const auto& [k, v] : j.items()) {
    if (k == "packages") continue;
    out += std::string(first ? "" : ",\n") + "  " + Json(k).dump() + ": " + v.dump();
    first = false;
  }
  out += ",\n  \"packages\": [\n";
  for (size_t i = 0; i < pk.size(); ++i) out += "    " + pk[i].dump() + (i + 1 < pk.size() ? ",\n" : "\n");
  out += "  ]\n}\n";
  return out;
}

Result<DebianLock> lock_from_text(const std::string& text, const std::string& display_name) {
  const std::string op = "read " + display_name;
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return make_error(op, "not valid JSON; remove it and run hull image build --update to write a new one");
  try {
    if (j.at("lock_version").get<int>() != kLockVersion || j.at("builder").get<std::string>() != "debian")
      return make_error(op, "lock_version " + j.at("lock_version").dump() +
                                " is not one this hull reads (" + std::to_string(kLockVersion) + ")");
    DebianLock l;
    l.spec_digest = j.at("spec_digest").get<std::string>();
    l.suite = j.at("suite").get<std::string>();
    l.variant = j.at("variant").get<std::string>();
    l.architecture = j.at("architecture").get<std::string>();
    l.requested = j.at("requested").get<std::vector<std::string>>();
    l.sources = j.at("sources").get<std::vector<std::string>>();
    for (const auto& r : j.at("releases"))
      l.releases.push_back({r.at("source").get<std::string>(), r.at("date").get<std::string>()});
    l.source_date_epoch = j.at("source_date_epoch").get<int64_t>();
    const auto& pk = j.at("packages");
    if (!pk.is_array() || pk.size() > kMaxPackages) return make_error(op, "packages must be a list");
    for (const auto& p : pk) {
      DebPackage d{p.at("name").get<std::string>(), p.at("version").get<std::string>(),
                   p.at("arch").get<std::string>(), p.at("sha256").get<std::string>(),
                   p.at("size").get<uint64_t>()};
      if (!valid_package_name(d.name) || !valid_package_version(d.version) || !valid_architecture(d.arch) ||
          !is_hex64(d.sha256))
        return make_error(op, "package entry " + p.dump().substr(0, 200) + " is malformed");
      if (!l.packages.empty() && !(l.packages.back().name < d.name))
        return make_error(op, "packages are not sorted by name or repeat '" + d.name + "'");
      l.packages.push_back(std::move(d));
    }
    if (!is_hex64(l.spec_digest)) return make_error(op, "spec_digest is not a sha256");
    if (!valid_package_name(l.suite) || !valid_architecture(l.architecture) || !valid_package_name(l.variant))
      return make_error(op, "suite, variant or architecture is malformed");
    for (const auto& r : l.requested)
      if (!printable_line(r) || r.size() > 256) return make_error(op, "requested package '" + r + "' is malformed");
    for (const auto& s : l.sources)
      if (!printable_line(s) || !s.starts_with("deb ")) return make_error(op, "source '" + s + "' is malformed");
    for (const auto& r : l.releases)
      if (!printable_line(r.source) || !printable_line(r.date)) return make_error(op, "a release entry is malformed");
    if (l.packages.empty() || l.sources.empty()) return make_error(op, "no packages or no sources");
    return l;
  } catch (const Json::exception& e) {
    return make_error(op, std::string("missing or mistyped field: ") + e.what());
  }
}

Result<DebianLock> read_lock(const std::string& path) {
  HULL_ASSIGN(std::string text, sys::read_file(path, kMaxLockBytes));
  return lock_from_text(text, path);
}

Status write_lock(const std::string& path, const DebianLock& lock) {
  return sys::write_file_atomic(path, lock_to_text(lock));
}

Result<int64_t> parse_release_date(const std::string& date) {
  std::tm tm{};
  const char* end = ::strptime(date.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (end == nullptr) return make_error("read Release date '" + date + "'", "expected 'Sat, 11 Jul 2026 10:16:37 UTC'");
  std::string zone(end);
  if (zone != " UTC" && zone != " GMT" && zone != " +0000" && !zone.empty())
    return make_error("read Release date '" + date + "'", "only UTC dates are expected from Debian archives");
  return static_cast<int64_t>(::timegm(&tm));
}

}  // namespace hull::image
