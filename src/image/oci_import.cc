#include "image/oci_import.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/digest.h"
#include "base/sys.h"
#include "base/temp_dir.h"
#include "image/oci_config.h"
#include "image/oci_layers.h"

namespace hull::image {

namespace {

using Json = nlohmann::json;

constexpr size_t kMaxJsonBytes = 16u << 20;

// A path a manifest names inside the unpacked archive: relative, no "..",
// no empty parts; returns it joined to `dir`.
Result<std::string> inner_path(const std::string& dir, const std::string& rel) {
  if (rel.empty() || rel.size() > 4096 || rel[0] == '/')
    return make_error("image archive", "manifest names a bad path '" + rel + "'");
  size_t i = 0;
  while (i <= rel.size()) {
    size_t j = rel.find('/', i);
    if (j == std::string::npos) j = rel.size();
    std::string part = rel.substr(i, j - i);
    if (part.empty() || part == "." || part == "..")
      return make_error("image archive", "manifest names a bad path '" + rel + "'");
    i = j + 1;
  }
  const std::string p = dir + "/" + rel;
  struct stat st {};
  // lstat: an archive's symlink must not stand in for a blob.
  if (::lstat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return make_error("image archive", "'" + rel + "' is missing or not a regular file");
  return p;
}

Result<Json> read_json(const std::string& path, const std::string& what) {
  HULL_ASSIGN(std::string text, sys::read_file(path, kMaxJsonBytes));
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error("image archive", what + " is not valid JSON");
  return j;
}

// "sha256:<hex>" → blobs/sha256/<hex>, checked against its content.
Result<std::string> blob(const std::string& dir, const Json& descriptor, const std::string& what) {
  if (!descriptor.is_object() || !descriptor["digest"].is_string())
    return make_error("image archive", what + " has no digest");
  const std::string d = descriptor["digest"].get<std::string>();
  if (d.rfind("sha256:", 0) != 0 || d.size() != 71)
    return make_error("image archive", what + " digest '" + d + "' is not sha256");
  HULL_ASSIGN(std::string path, inner_path(dir, "blobs/sha256/" + d.substr(7)));
  HULL_ASSIGN(std::string sum, sha256_file_hex(path));
  if (sum != d.substr(7)) return make_error("image archive", what + " does not match its digest " + d);
  return path;
}

struct Parsed {
  std::string format;
  Json config;                      // the image config JSON
  std::vector<std::string> layers;  // paths, in order
};

Result<Parsed> parse_docker_save(const std::string& dir) {
  HULL_ASSIGN(Json m, read_json(dir + "/manifest.json", "manifest.json"));
  if (!m.is_array() || m.empty() || !m[0].is_object())
    return make_error("image archive", "manifest.json lists no image");
  if (m.size() > 1) return make_error("image archive", "holds " + std::to_string(m.size()) + " images; import one at a time");
  Parsed p{"docker-save", {}, {}};
  if (!m[0]["Config"].is_string()) return make_error("image archive", "manifest.json has no Config");
  HULL_ASSIGN(std::string cfg, inner_path(dir, m[0]["Config"].get<std::string>()));
  HULL_ASSIGN(p.config, read_json(cfg, "the image config"));
  for (const auto& l : m[0].value("Layers", Json::array())) {
    if (!l.is_string()) return make_error("image archive", "manifest.json has a non-string layer");
    const std::string rel = l.get<std::string>();
    HULL_ASSIGN(std::string path, inner_path(dir, rel));
    // Newer `docker save` writes layers as blobs/sha256/<hex>: check those.
    if (rel.rfind("blobs/sha256/", 0) == 0) {
      auto checked = blob(dir, Json{{"digest", "sha256:" + rel.substr(13)}}, "layer " + rel);
      if (!checked) return checked.error();
    }
    p.layers.push_back(path);
  }
  return p;
}

Result<Parsed> parse_oci_layout(const std::string& dir) {
  HULL_ASSIGN(Json index, read_json(dir + "/index.json", "index.json"));
  const Json& ms = index["manifests"];
  if (!ms.is_array() || ms.empty()) return make_error("image archive", "index.json lists no manifest");
  if (ms.size() > 1) return make_error("image archive", "index.json lists several images; import one at a time");
  HULL_ASSIGN(std::string mpath, blob(dir, ms[0], "the manifest"));
  HULL_ASSIGN(Json manifest, read_json(mpath, "the manifest"));
  if (manifest.contains("manifests"))
    return make_error("image archive", "is a multi-platform index; export one platform (linux/amd64)");
  Parsed p{"oci-layout", {}, {}};
  HULL_ASSIGN(std::string cpath, blob(dir, manifest["config"], "the image config"));
  HULL_ASSIGN(p.config, read_json(cpath, "the image config"));
  for (const auto& l : manifest.value("layers", Json::array())) {
    HULL_ASSIGN(std::string path, blob(dir, l, "a layer"));
    p.layers.push_back(path);
  }
  return p;
}

}  // namespace

Result<ImportResult> import_image(ImageStore& store, const std::string& archive, const std::string& tag,
                                  int progress_fd, const LayerLimits& limits) {
  if (!tag.empty() && !ImageStore::valid_tag(tag))
    return make_error("invalid image name '" + tag + "'", "use lower-case letters, digits, '.', '_', '-', ':'");
  auto say = [&](const std::string& line) {
    if (progress_fd >= 0) dprintf(progress_fd, "%s\n", line.c_str());
  };
  // The outer archive, unpacked privately (0700) in a staging dir of its
  // own: locked like any build's, so no other stage() or gc takes it for a
  // dead one; never published (its rootfs/ stays empty).
  HULL_ASSIGN(Staging scratch, store.stage());
  const std::string outer_dir = scratch.dir() + "/archive";
  HULL_TRY(sys::mkdir_p(outer_dir, 0700));
  say("unpacking " + archive);
  if (auto st = apply_layer(outer_dir, archive); !st)
    return make_error("import " + archive, st.error().message());
  const bool oci = sys::exists(outer_dir + "/index.json") && sys::exists(outer_dir + "/oci-layout");
  Result<Parsed> parsed = oci ? parse_oci_layout(outer_dir)
                              : sys::exists(outer_dir + "/manifest.json")
                                    ? parse_docker_save(outer_dir)
                                    : Result<Parsed>(make_error("image archive", "neither a docker save archive (manifest.json) nor an OCI layout (index.json)"));
  if (!parsed) return make_error("import " + archive, parsed.error().message());

  HULL_ASSIGN(Staging staging, store.stage());
  for (size_t i = 0; i < parsed->layers.size(); ++i) {
    say("layer " + std::to_string(i + 1) + "/" + std::to_string(parsed->layers.size()));
    if (auto st = apply_layer(staging.rootfs(), parsed->layers[i], limits); !st)
      return make_error("import " + archive, "layer " + std::to_string(i + 1) + ": " + st.error().message());
  }
  ImageMeta meta;
  meta.config = oci_run_config(parsed->config);
  meta.builder = "oci-import";
  meta.source = archive;
  say("digesting the rootfs");
  HULL_ASSIGN(ImageRecord rec, store.publish(std::move(staging), meta));
  if (!tag.empty()) HULL_TRY(store.tag(tag, rec.digest));
  return ImportResult{std::move(rec), parsed->layers.size(), parsed->format};
}

}  // namespace hull::image
