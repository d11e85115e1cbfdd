// `hull image ...`: the image store (ls, inspect, rm, gc) and
// `prepare-default`, which builds (or finds in the cache) the default image
// rootfs; bench/ and CI call it up front so tests never build it.
#include <cstdio>
#include <set>

#include "cli/commands.h"
#include "cli/image_json.h"
#include "cli/output.h"
#include "cli/sandbox_ref.h"
#include "image/default_image.h"
#include "image/oci_import.h"
#include "image/store.h"

namespace hull::cli {

nlohmann::json image_record_json(const image::ImageRecord& r, const std::vector<std::string>& tags) {
  nlohmann::json env = nlohmann::json::object();
  for (const auto& [k, v] : r.meta.config.env) env[k] = v;
  const image::ImageConfig& c = r.meta.config;
  nlohmann::json health = nullptr;
  if (c.health)
    health = {{"cmd", c.health->cmd},
              {"interval_ms", c.health->interval_ms},
              {"timeout_ms", c.health->timeout_ms},
              {"retries", c.health->retries}};
  nlohmann::json services = nlohmann::json::array();
  for (const auto& s : c.services)
    services.push_back({{"name", s.name}, {"cmd", s.cmd}, {"restart", image::restart_policy_name(s.restart)}});
  return {{"digest", r.digest},
          {"rootfs_digest", r.rootfs_digest},
          {"tags", tags},
          {"builder", r.meta.builder},
          {"source", r.meta.source},
          {"size_bytes", r.size_bytes},
          {"files", r.files},
          {"created", r.created},
          {"config", {{"env", env}, {"cmd", c.cmd}, {"workdir", c.workdir}, {"user", c.user},
                      {"health", health}, {"services", services}}},
          {"packages", r.meta.packages},
          {"lock", r.meta.lock},
          {"isolation", r.meta.isolation},
          {"path", r.rootfs()}};
}

namespace {

std::string mib(uint64_t bytes) { return std::to_string((bytes + (1u << 19)) >> 20) + " MiB"; }

std::string joined(const std::vector<std::string>& v, const char* sep = ",") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out.empty() ? "-" : out;
}

}  // namespace

int cmd_image_ls(bool json) {
  image::ImageStore store;
  auto list = store.list();
  if (!list) return fail(list.error());
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& [rec, tags] : *list) arr.push_back(image_record_json(rec, tags));
    print_json(arr);
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"TAGS", "DIGEST", "BUILDER", "SIZE", "CREATED"}};
  for (const auto& [rec, tags] : *list)
    rows.push_back({joined(tags), rec.digest.substr(0, 19), rec.meta.builder, mib(rec.size_bytes), rec.created});
  print_table(rows);
  return 0;
}

int cmd_image_inspect(const std::string& ref, bool json) {
  image::ImageStore store;
  auto rec = store.resolve(ref);
  if (!rec) return fail(rec.error());
  std::vector<std::string> tags;
  if (auto list = store.list())
    for (const auto& [r, t] : *list)
      if (r.digest == rec->digest) tags = t;
  if (json) {
    print_json(image_record_json(*rec, tags));
    return 0;
  }
  std::printf("digest:   %s\nrootfs:   %s\ntags:     %s\nbuilder:  %s (%s)\nsize:     %s in %llu files\n"
              "created:  %s\ncmd:      %s\nworkdir:  %s\nuser:     %s\npackages: %zu (--json lists them)\n",
              rec->digest.c_str(), rec->rootfs_digest.c_str(), joined(tags).c_str(), rec->meta.builder.c_str(),
              rec->meta.source.c_str(), mib(rec->size_bytes).c_str(), static_cast<unsigned long long>(rec->files),
              rec->created.c_str(), joined(rec->meta.config.cmd, " ").c_str(), rec->meta.config.workdir.c_str(),
              rec->meta.config.user.c_str(), rec->meta.packages.size());
  const image::ImageConfig& c = rec->meta.config;
  if (c.health)
    std::printf("health:   %s  (every %u ms, timeout %u ms, unhealthy after %u)\n",
                display_command(c.health->cmd, 80).c_str(), c.health->interval_ms, c.health->timeout_ms,
                c.health->retries);
  for (const auto& s : c.services)
    std::printf("service:  %s: %s  (restart %s)\n", s.name.c_str(), display_command(s.cmd, 80).c_str(),
                image::restart_policy_name(s.restart));
  return 0;
}

int cmd_image_import(const std::string& archive, const std::string& tag, bool json) {
  image::ImageStore store;
  auto r = image::import_image(store, archive, tag, json ? -1 : 2);
  if (!r) return fail(r.error());
  if (json) {
    auto j = image_record_json(r->image, tag.empty() ? std::vector<std::string>{} : std::vector<std::string>{tag});
    j["format"] = r->format;
    j["layers"] = r->layers;
    print_json(j);
  } else {
    std::printf("%s\n", r->image.digest.c_str());
  }
  return 0;
}

int cmd_image_rm(const std::vector<std::string>& refs) {
  image::ImageStore store;
  int rc = 0;
  for (const auto& ref : refs) {
    if (auto st = store.remove(ref); !st) rc = fail(st.error());
    else std::printf("%s\n", ref.c_str());
  }
  return rc;
}

int cmd_image_gc() {
  // Images a sandbox on record was started from stay, tagged or not.
  std::set<std::string> in_use;
  for (const auto& n : sandbox_names())
    if (auto sb = find_sandbox(n); sb && sb->spec.image.rfind("sha256:", 0) == 0) in_use.insert(sb->spec.image);
  image::ImageStore store;
  auto s = store.gc(in_use);
  if (!s) return fail(s.error());
  std::printf("removed %llu images (%s) and %llu unfinished imports\n",
              static_cast<unsigned long long>(s->images_removed), mib(s->bytes_freed).c_str(),
              static_cast<unsigned long long>(s->stages_removed));
  return 0;
}

int cmd_image_prepare(bool print_path) {
  auto rootfs = image::ensure_default_rootfs(2);
  if (!rootfs) return fail("prepare the default image: " + rootfs.error().message(), "see hull doctor");
  if (print_path) std::printf("%s\n", rootfs->c_str());
  else std::fprintf(stderr, "hull: default image ready at %s\n", rootfs->c_str());
  return 0;
}

}  // namespace hull::cli
