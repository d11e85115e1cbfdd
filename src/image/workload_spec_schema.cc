// hull.toml -> WorkloadSpec: toml++ parses, then a strict walk of the schema
// below turns each table into typed values, collecting every problem with
// its position instead of stopping at the first.
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include "image/workload_spec.h"
#include "image/workload_spec_internal.h"

namespace hull::image {

namespace {

using spec_detail::all_of;
using spec_detail::closest;
using spec_detail::is_graph;
using spec_detail::join_parts;
using spec_detail::kBackendChoices;
using spec_detail::kNetworkModes;
using spec_detail::kRestartPolicies;
using spec_detail::kWorkspaceModes;
using spec_detail::normalise_user;
using spec_detail::parse_duration_text;
using spec_detail::parse_size_text;
using spec_detail::path_parts;
using spec_detail::shown;
using spec_detail::Spelling;
using spec_detail::valid_env_name;
using spec_detail::valid_oci_ref;
using spec_detail::valid_package_name;
using spec_detail::valid_package_version;
using spec_detail::valid_service_name;

constexpr std::string_view kDebianSuites[] = {"bookworm", "trixie"};

const char* type_phrase(toml::node_type t) {
  switch (t) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "a value";
}

// ---- the schema walk ----

struct Pos {
  uint32_t line = 1;
  uint32_t column = 1;
};

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  void report(Pos at, std::string message) {
    diags_.push_back({file_, at.line, at.column, std::move(message)});
  }
  // A node's or key's position; `fallback` when toml++ has none (an
  // implicitly created table).
  static Pos pos(const toml::source_region& r, Pos fallback) {
    if (r.begin.line == 0) return fallback;
    return {r.begin.line, r.begin.column};
  }

  std::vector<SpecDiagnostic> take() {
    std::stable_sort(diags_.begin(), diags_.end(), [](const auto& a, const auto& b) {
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    if (diags_.size() > kMaxDiagnostics) {
      size_t more = diags_.size() - kMaxDiagnostics;
      SpecDiagnostic last = diags_[kMaxDiagnostics];
      diags_.resize(kMaxDiagnostics);
      last.message = "too many problems; " + std::to_string(more) + " more not shown";
      diags_.push_back(std::move(last));
    }
    return std::move(diags_);
  }

  // Every key of `t` outside `known` is an error, with the nearest known key.
  void check_keys(const toml::table& t, std::initializer_list<std::string_view> known,
                  const std::string& where, Pos at) {
    for (auto&& [k, v] : t) {
      if (std::find(known.begin(), known.end(), k.str()) != known.end()) continue;
      std::string msg = "unknown key " + shown(k.str()) + " " + where;
      if (auto s = closest(k.str(), known)) msg += " (did you mean \"" + std::string(*s) + "\"?)";
      report(pos(k.source(), at), std::move(msg));
    }
  }

  void type_error(const toml::node& n, const std::string& name, std::string_view want, Pos at) {
    report(pos(n.source(), at),
           name + " must be " + std::string(want) + ", not " + type_phrase(n.type()));
  }

  // A string value: right type, at most kMaxStringBytes, no NUL.
  // `want` names what is expected in the type error ("a string like \"10s\"").
  std::optional<std::string> string(const toml::node& n, const std::string& name, Pos at,
                                    std::string_view want = "a string") {
    const auto* v = n.as_string();
    if (v == nullptr) {
      type_error(n, name, want, at);
      return std::nullopt;
    }
    const std::string& s = v->get();
    if (s.size() > kMaxStringBytes) {
      report(pos(n.source(), at), name + " is too long (" + std::to_string(s.size()) +
                                      " bytes; at most " + std::to_string(kMaxStringBytes) + ")");
      return std::nullopt;
    }
    if (s.find('\0') != std::string::npos) {
      report(pos(n.source(), at), name + " must not contain a NUL character");
      return std::nullopt;
    }
    return s;
  }

  std::optional<int64_t> integer(const toml::node& n, const std::string& name, Pos at, int64_t min,
                                 int64_t max) {
    const auto* v = n.as_integer();
    if (v == nullptr) {
      type_error(n, name, "an integer", at);
      return std::nullopt;
    }
    if (v->get() < min || v->get() > max) {
      report(pos(n.source(), at), name + " must be between " + std::to_string(min) + " and " +
                                      std::to_string(max) + " (got " + std::to_string(v->get()) +
                                      ")");
      return std::nullopt;
    }
    return v->get();
  }

  const toml::table* table(const toml::node& n, const std::string& name, Pos at,
                           std::string_view want = "a table") {
    const auto* t = n.as_table();
    if (t == nullptr) type_error(n, name, want, at);
    return t;
  }

  const toml::array* array(const toml::node& n, const std::string& name, Pos at) {
    const auto* a = n.as_array();
    if (a == nullptr) {
      type_error(n, name, "an array", at);
      return nullptr;
    }
    if (a->size() > kMaxListItems) {
      report(pos(n.source(), at), name + " has " + std::to_string(a->size()) + " items; at most " +
                                      std::to_string(kMaxListItems));
      return nullptr;
    }
    return a;
  }

  // A command: a non-empty array of strings whose first is non-empty.
  std::optional<std::vector<std::string>> command(const toml::node& n, const std::string& name,
                                                  Pos at) {
    const auto* a = array(n, name, at);
    if (a == nullptr) return std::nullopt;
    Pos here = pos(n.source(), at);
    if (a->empty()) {
      report(here, name + " must not be empty");
      return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (size_t i = 0; i < a->size(); ++i) {
      auto s = string((*a)[i], name + "[" + std::to_string(i) + "]", here);
      if (s) out.push_back(std::move(*s));
      ok = ok && s.has_value();
    }
    if (ok && out[0].empty()) {
      report(pos((*a)[0].source(), here), name + "[0] (the program) must not be empty");
      ok = false;
    }
    if (!ok) return std::nullopt;
    return out;
  }

  template <class E, size_t N>
  std::optional<E> choice(const toml::node& n, const std::string& name, Pos at,
                          const Spelling<E> (&set)[N]) {
    std::string listed;
    for (const auto& s : set)
      listed += (listed.empty() ? "\"" : ", \"") + std::string(s.text) + "\"";
    auto text = string(n, name, at, "one of " + listed);
    if (!text) return std::nullopt;
    for (const auto& s : set)
      if (s.text == *text) return s.value;
    report(pos(n.source(), at), name + " must be one of " + listed + " (got " + shown(*text) + ")");
    return std::nullopt;
  }

  // An absolute path inside the image, normalised ("//a/./b/" -> "/a/b").
  std::optional<std::string> image_path(const toml::node& n, const std::string& name, Pos at) {
    auto s = string(n, name, at);
    if (!s) return std::nullopt;
    std::vector<std::string_view> parts;
    if (s->empty() || (*s)[0] != '/') {
      report(pos(n.source(), at), name + " " + shown(*s) + " must be an absolute path");
    } else if (!path_parts(*s, &parts)) {
      report(pos(n.source(), at), name + " " + shown(*s) + " must not contain \"..\"");
    } else {
      return join_parts(parts, true);
    }
    return std::nullopt;
  }

  // A size string ("512m") in bytes.
  std::optional<uint64_t> size(const toml::node& n, const std::string& name, Pos at) {
    auto s = string(n, name, at, "a size string like \"512m\" or \"2g\"");
    if (!s) return std::nullopt;
    auto v = parse_size_text(*s);
    if (!v)
      report(pos(n.source(), at),
             name + " " + shown(*s) + " is not a size (a number with k, m, g or t, e.g. \"512m\")");
    return v;
  }

  // A duration string ("10s") in milliseconds.
  std::optional<uint32_t> duration(const toml::node& n, const std::string& name, Pos at) {
    auto s = string(n, name, at, "a duration string like \"10s\"");
    if (!s) return std::nullopt;
    auto v = parse_duration_text(*s);
    if (!v)
      report(pos(n.source(), at),
             name + " " + shown(*s) +
                 " is not a duration (a number with ms, s, m or h, e.g. \"10s\")");
    return v;
  }

 private:
  std::string file_;
  std::vector<SpecDiagnostic> diags_;
};

// ---- one function per table ----

std::optional<ImageBase> read_base(Reader& r, const toml::node& n, Pos at) {
  auto s = r.string(n, "image.base", at);
  if (!s) return std::nullopt;
  Pos here = Reader::pos(n.source(), at);
  std::string_view v = *s;
  ImageBase b;
  if (v.starts_with("debian:")) {
    b.kind = BaseKind::kDebian;
    b.suite = v.substr(7);
    if (std::find(std::begin(kDebianSuites), std::end(kDebianSuites), b.suite) ==
        std::end(kDebianSuites)) {
      r.report(here, "image.base: debian suite " + shown(b.suite) +
                         " is not supported (use \"debian:bookworm\" or \"debian:trixie\")");
      return std::nullopt;
    }
    return b;
  }
  if (v.starts_with("nix:")) {
    b.kind = BaseKind::kNix;
    std::string_view rest = v.substr(4);
    size_t hash = rest.find('#');
    if (hash == std::string_view::npos || hash == 0 || hash + 1 == rest.size()) {
      r.report(here, "image.base " + shown(v) + " must be \"nix:<flake-ref>#<attr>\"");
      return std::nullopt;
    }
    b.flake_ref = rest.substr(0, hash);
    b.attr = rest.substr(hash + 1);
    if (!all_of(b.flake_ref, is_graph) || !all_of(b.attr, is_graph) ||
        b.attr.find('#') != std::string::npos) {
      r.report(here, "image.base " + shown(v) +
                         ": the flake reference and attribute must be printable ASCII without "
                         "spaces or a second '#'");
      return std::nullopt;
    }
    return b;
  }
  if (v.starts_with("oci:")) {
    b.kind = BaseKind::kOci;
    b.ref = v.substr(4);
    if (!valid_oci_ref(b.ref)) {
      r.report(here, "image.base " + shown(v) +
                         ": not an OCI reference (\"oci:name[:tag][@sha256:<hex>]\" or "
                         "\"oci:sha256:<hex>\", lower-case name)");
      return std::nullopt;
    }
    return b;
  }
  r.report(here, "image.base " + shown(v) +
                     " must be \"debian:<suite>\", \"nix:<flake-ref>#<attr>\" or \"oci:<ref>\"");
  return std::nullopt;
}

void read_packages(Reader& r, const toml::node& n, Pos at, std::vector<std::string>* out) {
  const auto* a = r.array(n, "image.packages", at);
  if (a == nullptr) return;
  Pos here = Reader::pos(n.source(), at);
  std::map<std::string, Pos, std::less<>> seen;
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::node& item = (*a)[i];
    std::string name = "image.packages[" + std::to_string(i) + "]";
    auto s = r.string(item, name, here);
    if (!s) continue;
    Pos ip = Reader::pos(item.source(), here);
    size_t eq = s->find('=');
    std::string pkg = s->substr(0, eq);
    if (!valid_package_name(pkg)) {
      r.report(ip, name + " " + shown(pkg) +
                       " is not a Debian package name (at least 2 of a-z 0-9 + . -, "
                       "starting with a letter or digit)");
      continue;
    }
    if (eq != std::string::npos && !valid_package_version(std::string_view(*s).substr(eq + 1))) {
      r.report(ip, name + " " + shown(*s) + ": " + shown(s->substr(eq + 1)) +
                       " is not a Debian version (e.g. \"7.88.1-10+deb12u5\")");
      continue;
    }
    auto [it, fresh] = seen.emplace(pkg, ip);
    if (!fresh) {
      r.report(ip, name + ": duplicate package " + shown(pkg) + " (first listed at " +
                       std::to_string(it->second.line) + ":" + std::to_string(it->second.column) +
                       ")");
      continue;
    }
    out->push_back(std::move(*s));
  }
}

void read_files(Reader& r, const toml::node& n, Pos at, std::vector<FileCopy>* out) {
  const auto* a = r.array(n, "image.files", at);
  if (a == nullptr) return;
  Pos here = Reader::pos(n.source(), at);
  std::map<std::string, std::string, std::less<>> dsts;  // dst -> the entry that has it
  for (size_t i = 0; i < a->size(); ++i) {
    std::string name = "image.files[" + std::to_string(i) + "]";
    const auto* t = r.table((*a)[i], name, here, "a table {src, dst, mode}");
    if (t == nullptr) continue;
    Pos tp = Reader::pos(t->source(), here);
    r.check_keys(*t, {"src", "dst", "mode"}, "in " + name, tp);
    FileCopy f;
    bool ok = true;
    if (const auto* src = t->get("src")) {
      auto s = r.string(*src, name + ".src", tp);
      std::vector<std::string_view> parts;
      Pos sp = Reader::pos(src->source(), tp);
      if (!s) {
        ok = false;
      } else if (s->empty() || (*s)[0] == '/') {
        r.report(sp, name + ".src " + shown(*s) +
                         " must be a relative path inside the project directory");
        ok = false;
      } else if (!path_parts(*s, &parts)) {
        r.report(sp, name + ".src " + shown(*s) +
                         " must not contain \"..\" (it must stay inside the project directory)");
        ok = false;
      } else {
        f.src = join_parts(parts, false);
      }
    } else {
      r.report(tp, "missing required key \"src\" in " + name);
      ok = false;
    }
    if (const auto* dst = t->get("dst")) {
      auto d = r.image_path(*dst, name + ".dst", tp);
      if (d) {
        auto [it, fresh] = dsts.emplace(*d, name);
        if (!fresh) {
          r.report(Reader::pos(dst->source(), tp),
                   name + ".dst " + shown(*d) + " is already the destination of " + it->second);
          ok = false;
        }
        f.dst = std::move(*d);
      }
      ok = ok && d.has_value();
    } else {
      r.report(tp, "missing required key \"dst\" in " + name);
      ok = false;
    }
    if (const auto* mode = t->get("mode")) {
      auto m = r.string(*mode, name + ".mode", tp, "an octal string like \"0644\"");
      if (m && (m->size() == 3 || m->size() == 4) &&
          all_of(*m, [](char c) { return c >= '0' && c <= '7'; })) {
        uint32_t v = 0;
        std::from_chars(m->data(), m->data() + m->size(), v, 8);
        f.mode = v;
      } else {
        if (m)
          r.report(Reader::pos(mode->source(), tp),
                   name + ".mode " + shown(*m) + " must be 3 or 4 octal digits, e.g. \"0644\"");
        ok = false;
      }
    }
    if (ok) out->push_back(std::move(f));
  }
}

void read_image(Reader& r, const toml::table& t, Pos at, ImageSection* img) {
  r.check_keys(t, {"base", "packages", "files", "env", "workdir", "user", "cmd"}, "in [image]", at);
  std::optional<ImageBase> base;
  if (const auto* n = t.get("base")) {
    base = read_base(r, *n, at);
    if (base) img->base = std::move(*base);
  } else {
    r.report(at, "missing required key \"base\" in [image]");
  }
  if (const auto* n = t.get("packages")) {
    if (base && base->kind != BaseKind::kDebian)
      r.report(Reader::pos(n->source(), at),
               std::string("image.packages is only allowed with a debian base (this base is ") +
                   base_kind_name(base->kind) + "; list packages in the " +
                   base_kind_name(base->kind) + " image itself)");
    else
      read_packages(r, *n, at, &img->packages);
  }
  if (const auto* n = t.get("files")) read_files(r, *n, at, &img->files);
  if (const auto* n = t.get("env")) {
    if (const auto* env = r.table(*n, "image.env", at)) {
      Pos ep = Reader::pos(env->source(), at);
      if (env->size() > kMaxListItems)
        r.report(ep, "image.env has " + std::to_string(env->size()) + " entries; at most " +
                         std::to_string(kMaxListItems));
      else
        for (auto&& [k, v] : *env) {
          if (!valid_env_name(k.str())) {
            r.report(Reader::pos(k.source(), ep),
                     "image.env: " + shown(k.str()) +
                         " is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
            continue;
          }
          if (auto s = r.string(v, "image.env." + std::string(k.str()), ep))
            img->env[std::string(k.str())] = std::move(*s);
        }
    }
  }
  if (const auto* n = t.get("workdir"))
    if (auto p = r.image_path(*n, "image.workdir", at)) img->workdir = std::move(*p);
  if (const auto* n = t.get("user")) {
    if (auto s = r.string(*n, "image.user", at)) {
      if (auto u = normalise_user(*s))
        img->user = std::move(*u);
      else
        r.report(Reader::pos(n->source(), at),
                 "image.user " + shown(*s) +
                     " must be a user name ([a-z_][a-z0-9_-]*) or \"uid\" or \"uid:gid\"");
    }
  }
  if (const auto* n = t.get("cmd"))
    if (auto c = r.command(*n, "image.cmd", at)) img->cmd = std::move(*c);
}

std::optional<HealthCheck> read_health(Reader& r, const toml::table& t, Pos at) {
  r.check_keys(t, {"cmd", "interval", "timeout", "retries"}, "in [health]", at);
  HealthCheck h;
  bool ok = true;
  if (const auto* n = t.get("cmd")) {
    auto c = r.command(*n, "health.cmd", at);
    if (c) h.cmd = std::move(*c);
    ok = c.has_value();
  } else {
    r.report(at, "missing required key \"cmd\" in [health]");
    ok = false;
  }
  if (const auto* n = t.get("interval")) {
    auto d = r.duration(*n, "health.interval", at);
    if (d) h.interval_ms = *d;
    ok = ok && d.has_value();
  }
  if (const auto* n = t.get("timeout")) {
    auto d = r.duration(*n, "health.timeout", at);
    if (d) h.timeout_ms = *d;
    ok = ok && d.has_value();
  }
  if (const auto* n = t.get("retries")) {
    auto v = r.integer(*n, "health.retries", at, 1, 1000);
    if (v) h.retries = static_cast<uint32_t>(*v);
    ok = ok && v.has_value();
  }
  if (!ok) return std::nullopt;
  return h;
}

void read_services(Reader& r, const toml::node& n, Pos at, std::vector<Service>* out) {
  const auto* a = n.as_array();
  if (a == nullptr) {
    r.type_error(n, "service", "an array of tables ([[service]])", at);
    return;
  }
  Pos here = Reader::pos(n.source(), at);
  if (a->size() > kMaxServices) {
    r.report(here, "too many services (" + std::to_string(a->size()) + "; at most " +
                       std::to_string(kMaxServices) + ")");
    return;
  }
  std::map<std::string, Pos, std::less<>> seen;
  for (size_t i = 0; i < a->size(); ++i) {
    std::string name = "service[" + std::to_string(i) + "]";
    const auto* t = r.table((*a)[i], name, here);
    if (t == nullptr) continue;
    Pos tp = Reader::pos(t->source(), here);
    r.check_keys(*t, {"name", "cmd", "restart"}, "in " + name, tp);
    Service s;
    bool ok = true;
    if (const auto* nn = t->get("name")) {
      auto v = r.string(*nn, name + ".name", tp);
      Pos np = Reader::pos(nn->source(), tp);
      if (v && !valid_service_name(*v)) {
        r.report(np, name + ".name " + shown(*v) +
                         " must be 1-63 of a-z 0-9 -, starting with a letter or digit");
        ok = false;
      } else if (v) {
        auto [it, fresh] = seen.emplace(*v, np);
        if (!fresh) {
          r.report(np, name + ".name: duplicate service " + shown(*v) + " (first at " +
                           std::to_string(it->second.line) + ":" +
                           std::to_string(it->second.column) + ")");
          ok = false;
        }
        s.name = std::move(*v);
      }
      ok = ok && v.has_value();
    } else {
      r.report(tp, "missing required key \"name\" in " + name);
      ok = false;
    }
    if (const auto* c = t->get("cmd")) {
      auto v = r.command(*c, name + ".cmd", tp);
      if (v) s.cmd = std::move(*v);
      ok = ok && v.has_value();
    } else {
      r.report(tp, "missing required key \"cmd\" in " + name);
      ok = false;
    }
    if (const auto* rr = t->get("restart")) {
      auto v = r.choice(*rr, name + ".restart", tp, kRestartPolicies);
      if (v) s.restart = *v;
      ok = ok && v.has_value();
    }
    if (ok) out->push_back(std::move(s));
  }
}

void read_sandbox(Reader& r, const toml::table& t, Pos at, SandboxDefaults* sb) {
  r.check_keys(t, {"cpus", "memory", "disk", "pids", "network", "workspace", "backend"},
               "in [sandbox]", at);
  if (const auto* n = t.get("cpus")) {
    std::optional<double> v;
    if (const auto* i = n->as_integer())
      v = static_cast<double>(i->get());
    else if (const auto* f = n->as_floating_point())
      v = f->get();
    else
      r.type_error(*n, "sandbox.cpus", "a number", at);
    if (v && (!std::isfinite(*v) || *v <= 0 || *v > 1024))
      r.report(Reader::pos(n->source(), at), "sandbox.cpus must be above 0 and at most 1024");
    else if (v)
      sb->cpus = *v;
  }
  if (const auto* n = t.get("memory")) sb->memory_bytes = r.size(*n, "sandbox.memory", at);
  if (const auto* n = t.get("disk")) sb->disk_bytes = r.size(*n, "sandbox.disk", at);
  if (const auto* n = t.get("pids"))
    if (auto v = r.integer(*n, "sandbox.pids", at, 1, 4'194'304))
      sb->pids = static_cast<uint32_t>(*v);
  if (const auto* n = t.get("network"))
    if (auto v = r.choice(*n, "sandbox.network", at, kNetworkModes)) sb->network = *v;
  if (const auto* n = t.get("workspace"))
    if (auto v = r.choice(*n, "sandbox.workspace", at, kWorkspaceModes)) sb->workspace = *v;
  if (const auto* n = t.get("backend"))
    if (auto v = r.choice(*n, "sandbox.backend", at, kBackendChoices)) sb->backend = *v;
}

void read_spec(Reader& r, const toml::table& root, WorkloadSpec* spec) {
  const Pos top{1, 1};
  r.check_keys(root, {"image", "health", "service", "sandbox"}, "at the top level", top);
  if (const auto* n = root.get("image")) {
    if (const auto* t = r.table(*n, "image", top, "a table ([image])"))
      read_image(r, *t, Reader::pos(t->source(), top), &spec->image);
  } else {
    r.report(top, "missing required table [image]");
  }
  if (const auto* n = root.get("health"))
    if (const auto* t = r.table(*n, "health", top, "a table ([health])"))
      spec->health = read_health(r, *t, Reader::pos(t->source(), top));
  if (const auto* n = root.get("service")) read_services(r, *n, top, &spec->services);
  if (const auto* n = root.get("sandbox"))
    if (const auto* t = r.table(*n, "sandbox", top, "a table ([sandbox])"))
      read_sandbox(r, *t, Reader::pos(t->source(), top), &spec->sandbox);
}

}  // namespace

SpecCheck check_workload_spec(std::string_view text, const std::string& display_name) {
  SpecCheck out;
  Reader r(display_name);
  if (text.size() > kMaxSpecBytes) {
    r.report({1, 1}, "file is " + std::to_string(text.size()) + " bytes; at most " +
                         std::to_string(kMaxSpecBytes));
    out.diagnostics = r.take();
    return out;
  }
  // Bound nesting before toml++ recurses (see kMaxLineBytes).
  bool long_lines = false;
  uint32_t line = 1;
  for (size_t start = 0; start <= text.size(); ++line) {
    size_t end = std::min(text.find('\n', start), text.size());
    if (end - start > kMaxLineBytes) {
      r.report({line, static_cast<uint32_t>(kMaxLineBytes + 1)},
               "line is longer than " + std::to_string(kMaxLineBytes) + " bytes");
      long_lines = true;
    }
    start = end + 1;
  }
  if (long_lines) {
    out.diagnostics = r.take();
    return out;
  }
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(display_name));
  } catch (const toml::parse_error& e) {
    r.report(Reader::pos(e.source(), {1, 1}), "invalid TOML: " + std::string(e.description()));
    out.diagnostics = r.take();
    return out;
  }
  read_spec(r, root, &out.spec);
  out.diagnostics = r.take();
  return out;
}

}  // namespace hull::image
