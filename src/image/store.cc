#include "image/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/digest.h"
#include "base/fd.h"
#include "base/paths.h"
#include "base/sys.h"
#include "base/time_text.h"
#include "image/tree_digest.h"

namespace hull::image {

namespace {

using Json = nlohmann::json;

constexpr const char* kDirPrefix = "sha256-";
constexpr const char* kStagePrefix = ".stage-";

bool is_hex(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// health and services are written only when present, so images without
// them keep the names they had before these keys existed.
Json config_json(const ImageConfig& c) {
  Json env = Json::array();
  for (const auto& [k, v] : c.env) env.push_back(Json::array({k, v}));
  Json j{{"env", env}, {"cmd", c.cmd}, {"workdir", c.workdir}, {"user", c.user}};
  if (c.health)
    j["health"] = Json{{"cmd", c.health->cmd},
                       {"interval_ms", c.health->interval_ms},
                       {"timeout_ms", c.health->timeout_ms},
                       {"retries", c.health->retries}};
  if (!c.services.empty()) {
    Json list = Json::array();
    for (const auto& s : c.services)
      list.push_back(Json{{"name", s.name}, {"cmd", s.cmd}, {"restart", restart_policy_name(s.restart)}});
    j["services"] = std::move(list);
  }
  return j;
}

// image.json is the store's own file (written by publish()); a hand-edited
// one that does not parse fails its digest check in verify() anyway.
ImageConfig config_from(const Json& j) {
  ImageConfig c;
  for (const auto& kv : j.value("env", Json::array()))
    if (kv.is_array() && kv.size() == 2) c.env.emplace_back(kv[0].get<std::string>(), kv[1].get<std::string>());
  c.cmd = j.value("cmd", std::vector<std::string>{});
  c.workdir = j.value("workdir", "/");
  c.user = j.value("user", "root");
  if (const auto h = j.find("health"); h != j.end() && h->is_object()) {
    HealthCheck hc;
    hc.cmd = h->value("cmd", std::vector<std::string>{});
    hc.interval_ms = h->value("interval_ms", hc.interval_ms);
    hc.timeout_ms = h->value("timeout_ms", hc.timeout_ms);
    hc.retries = h->value("retries", hc.retries);
    if (!hc.cmd.empty()) c.health = std::move(hc);
  }
  for (const auto& s : j.value("services", Json::array())) {
    if (!s.is_object()) continue;
    Service svc;
    svc.name = s.value("name", "");
    svc.cmd = s.value("cmd", std::vector<std::string>{});
    svc.restart = parse_restart_policy(s.value("restart", "no")).value_or(RestartPolicy::kNo);
    if (!svc.name.empty() && !svc.cmd.empty()) c.services.push_back(std::move(svc));
  }
  return c;
}

// The image's name: what runs (the tree) and how (the config). Versioned so
// a change of this shape cannot alias old names.
std::string image_digest(const std::string& rootfs_digest, const ImageConfig& c) {
  Json j{{"version", 1}, {"rootfs", rootfs_digest}, {"config", config_json(c)}};
  return "sha256:" + sha256_hex(j.dump());
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// One lock for every change to the store.
Result<UniqueFd> lock_store(const std::string& root) {
  HULL_TRY(sys::mkdir_p(root, 0755));
  HULL_ASSIGN(UniqueFd fd, sys::open(root + "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  int rc;
  do rc = ::flock(fd.get(), LOCK_EX);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) return sys_error("lock the image store " + root);
  return fd;
}

// A staging dir whose builder is alive holds a flock on it (see stage()).
bool stage_in_use(const std::string& dir) {
  auto fd = sys::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (!fd) return false;
  return ::flock(fd->get(), LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

std::string dir_name(const std::string& digest) { return kDirPrefix + digest.substr(7); }

}  // namespace

std::string ImageStore::default_root() { return paths::data_dir() + "/images"; }

ImageStore::ImageStore(std::string root) : root_(std::move(root)) {}

bool ImageStore::valid_tag(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  auto ok_first = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!ok_first(name[0])) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) {
    return ok_first(c) || c == '.' || c == '_' || c == '-' || c == ':';
  }) && name.find("..") == std::string::npos;
}

Result<Staging> ImageStore::stage() {
  HULL_TRY(sys::mkdir_p(root_, 0755));
  // Under the store lock, so no other stage() sees ours between its mkdir
  // and its flock and takes it for a dead one.
  HULL_ASSIGN(UniqueFd store_lock, lock_store(root_));
  // A build killed midway left its staging dir: nobody holds it, clear it.
  for (const auto& n : entries(root_))
    if (n.rfind(kStagePrefix, 0) == 0 && !stage_in_use(root_ + "/" + n)) (void)sys::remove_all(root_ + "/" + n);
  HULL_ASSIGN(TempDir dir, TempDir::create(root_, kStagePrefix));
  if (::mkdir((dir.path() + "/rootfs").c_str(), 0755) < 0) return sys_error("mkdir " + dir.path() + "/rootfs");
  HULL_ASSIGN(UniqueFd held, sys::open(dir.path(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (::flock(held.get(), LOCK_EX | LOCK_NB) < 0) return sys_error("lock " + dir.path());
  return Staging(std::move(dir), std::move(held));
}

Result<ImageRecord> ImageStore::publish(Staging staging, const ImageMeta& meta) {
  HULL_ASSIGN(TreeDigest tree, tree_digest(staging.rootfs()));
  const std::string digest = image_digest(tree.digest, meta.config);
  const std::string final_dir = root_ + "/" + dir_name(digest);
  HULL_ASSIGN(UniqueFd held, lock_store(root_));
  if (sys::exists(final_dir + "/image.json")) return read_record(final_dir);  // staging removed on return
  Json j{{"digest", digest},
         {"rootfs_digest", tree.digest},
         {"config", config_json(meta.config)},
         {"builder", meta.builder},
         {"source", meta.source},
         {"packages", meta.packages},
         {"lock", meta.lock},
         {"isolation", meta.isolation},
         {"size_bytes", tree.bytes},
         {"files", tree.files},
         {"created", now_rfc3339()}};
  HULL_TRY(sys::write_file_atomic(staging.dir() + "/image.json", j.dump(2) + "\n"));
  if (::rename(staging.dir().c_str(), final_dir.c_str()) < 0)
    return sys_error("rename " + staging.dir() + " -> " + final_dir);
  staging.dir_.release();
  return read_record(final_dir);
}

Result<ImageRecord> ImageStore::read_record(const std::string& dir) const {
  HULL_ASSIGN(std::string text, sys::read_file(dir + "/image.json", 64u << 20));
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("read " + dir + "/image.json", "not valid JSON");
  try {
    ImageRecord r;
    r.digest = j.at("digest").get<std::string>();
    r.rootfs_digest = j.at("rootfs_digest").get<std::string>();
    r.meta.config = config_from(j.value("config", Json::object()));
    r.meta.builder = j.value("builder", "");
    r.meta.source = j.value("source", "");
    r.meta.packages = j.value("packages", Json::array());
    r.meta.lock = j.value("lock", Json());
    r.meta.isolation = j.value("isolation", "");
    r.size_bytes = j.value("size_bytes", uint64_t{0});
    r.files = j.value("files", uint64_t{0});
    r.created = j.value("created", "");
    r.dir = dir;
    if (dir_name(r.digest) != dir.substr(dir.rfind('/') + 1))
      return make_error("image " + dir, "image.json names another digest (" + r.digest + ")");
    return r;
  } catch (const Json::exception& e) {
    return make_error("read " + dir + "/image.json", e.what());
  }
}

Status ImageStore::tag(const std::string& name, const std::string& digest) {
  if (!valid_tag(name))
    return make_error("invalid image name '" + name + "'", "use lower-case letters, digits, '.', '_', '-', ':'");
  HULL_ASSIGN(ImageRecord rec, resolve(digest));
  HULL_ASSIGN(UniqueFd held, lock_store(root_));
  HULL_TRY(sys::mkdir_p(root_ + "/tags", 0755));
  return sys::write_file_atomic(root_ + "/tags/" + name, rec.digest + "\n");
}

Result<ImageRecord> ImageStore::resolve(const std::string& ref) const {
  if (valid_tag(ref) && sys::exists(root_ + "/tags/" + ref)) {
    HULL_ASSIGN(std::string d, sys::read_file(root_ + "/tags/" + ref, 256));
    while (!d.empty() && (d.back() == '\n' || d.back() == ' ')) d.pop_back();
    if (d.rfind("sha256:", 0) != 0 || !is_hex(d.substr(7)) || d.size() != 71)
      return make_error("image tag '" + ref + "'", "its file is corrupt; hull image rm " + ref);
    auto rec = read_record(root_ + "/" + dir_name(d));
    if (!rec) return make_error("image '" + ref + "'", "tagged " + d + ", which is missing; hull image rm " + ref);
    return rec;
  }
  std::string hex = ref.rfind("sha256:", 0) == 0 ? ref.substr(7) : ref;
  if (hex.size() < 8 || !is_hex(hex))
    return make_error("no image '" + ref + "'", "see hull image ls");
  std::vector<std::string> hits;
  for (const auto& n : entries(root_))
    if (n.rfind(kDirPrefix + hex, 0) == 0) hits.push_back(n);
  if (hits.empty()) return make_error("no image '" + ref + "'", "see hull image ls");
  if (hits.size() > 1) return make_error("image '" + ref + "' is ambiguous", "give more digits of the digest");
  return read_record(root_ + "/" + hits[0]);
}

Result<std::vector<std::pair<ImageRecord, std::vector<std::string>>>> ImageStore::list() const {
  std::vector<std::pair<ImageRecord, std::vector<std::string>>> out;
  for (const auto& n : entries(root_)) {
    if (n.rfind(kDirPrefix, 0) != 0) continue;
    auto rec = read_record(root_ + "/" + n);
    if (!rec) continue;  // not an image (yet); gc decides
    out.emplace_back(std::move(*rec), std::vector<std::string>{});
  }
  for (const auto& t : entries(root_ + "/tags")) {
    auto d = sys::read_file(root_ + "/tags/" + t, 256);
    if (!d) continue;
    for (auto& [rec, tags] : out)
      if (d->rfind(rec.digest, 0) == 0) tags.push_back(t);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first.created > b.first.created; });
  return out;
}

Status ImageStore::remove(const std::string& ref) {
  HULL_ASSIGN(ImageRecord rec, resolve(ref));
  HULL_ASSIGN(UniqueFd held, lock_store(root_));
  const bool by_tag = valid_tag(ref) && sys::exists(root_ + "/tags/" + ref);
  bool still_tagged = false;
  for (const auto& t : entries(root_ + "/tags")) {
    auto d = sys::read_file(root_ + "/tags/" + t, 256);
    if (!d || d->rfind(rec.digest, 0) != 0) continue;
    if (!by_tag || t == ref) {
      if (::unlink((root_ + "/tags/" + t).c_str()) < 0 && errno != ENOENT) return sys_error("remove tag " + t);
    } else {
      still_tagged = true;
    }
  }
  if (still_tagged) return ok_status();
  // Rename first: the image vanishes from list() at once, even if removing
  // its files is interrupted (gc finishes it as a stale stage).
  const std::string doomed = root_ + "/" + kStagePrefix + "rm-" + rec.digest.substr(7, 16);
  if (::rename(rec.dir.c_str(), doomed.c_str()) < 0) return sys_error("remove image " + rec.dir);
  return sys::remove_all(doomed);
}

Result<GcStats> ImageStore::gc(const std::set<std::string>& in_use) {
  HULL_ASSIGN(auto images, list());
  HULL_ASSIGN(UniqueFd held, lock_store(root_));
  GcStats s;
  for (const auto& n : entries(root_)) {
    if (n.rfind(kStagePrefix, 0) != 0) continue;
    if (stage_in_use(root_ + "/" + n)) continue;
    HULL_TRY(sys::remove_all(root_ + "/" + n));
    ++s.stages_removed;
  }
  for (const auto& [rec, tags] : images) {
    if (!tags.empty() || in_use.count(rec.digest) != 0) continue;
    HULL_TRY(sys::remove_all(rec.dir));
    ++s.images_removed;
    s.bytes_freed += rec.size_bytes;
  }
  return s;
}

Status ImageStore::verify(const ImageRecord& rec) const {
  HULL_ASSIGN(TreeDigest tree, tree_digest(rec.rootfs()));
  if (tree.digest != rec.rootfs_digest)
    return make_error("image " + rec.digest,
                      "its rootfs changed on disk (" + tree.digest + " != " + rec.rootfs_digest +
                          "); remove it with hull image rm and build or import it again");
  return ok_status();
}

}  // namespace hull::image
