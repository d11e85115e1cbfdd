#include "image/oci_import.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "base/digest.h"
#include "base/sys.h"
#include "image/archive_json.h"
#include "image/layer_digest.h"
#include "image/oci_archive.h"
#include "image/oci_config.h"

namespace hull::image {

namespace {

using Json = nlohmann::json;

// A layer as the manifests name it, with the digests its bytes must have:
// every layer has at least one, whatever its name.
struct LayerRef {
  std::string name;     // its path in the archive
  std::string blob;     // sha256 hex of its bytes, when its name or descriptor gives one
  std::string diff_id;  // sha256 hex of its uncompressed tar, from the config's rootfs.diff_ids
};

struct Parsed {
  std::string format;
  Json config;                   // the image config
  std::vector<LayerRef> layers;  // bottom to top
};

Error bad(const std::string& why) { return make_error("image archive", why); }

bool is_hex64(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// "sha256:<64 hex>" → the hex; anything else → "".
std::string sha256_of(std::string_view digest) {
  return digest.starts_with("sha256:") && is_hex64(digest.substr(7)) ? std::string(digest.substr(7))
                                                                     : "";
}

// "blobs/sha256/<64 hex>" → the hex; anything else → "".
std::string blob_name_digest(std::string_view name) {
  constexpr std::string_view kBlobs = "blobs/sha256/";
  return name.starts_with(kBlobs) && is_hex64(name.substr(kBlobs.size()))
             ? std::string(name.substr(kBlobs.size()))
             : "";
}

// A JSON file of the archive; its bytes must hash to `hex` when one is given.
Result<Json> read_json(const UniqueFd& dir, const std::string& rel, const std::string& what,
                       const std::string& hex = {}) {
  HULL_ASSIGN(std::string text, read_archive_file(dir, rel, kMaxArchiveJsonBytes));
  if (!hex.empty() && sha256_hex(text) != hex)
    return bad(what + " does not match its digest sha256:" + hex +
               "; the archive is damaged or was altered");
  return parse_archive_json(text, what);
}

// An OCI descriptor's digest, as hex.
Result<std::string> descriptor_digest(const Json& descriptor, const std::string& what) {
  const auto d = descriptor.find("digest");  // end() when not an object
  if (d == descriptor.end() || !d->is_string()) return bad(what + " has no digest");
  std::string hex = sha256_of(d->get<std::string>());
  if (hex.empty()) return bad(what + " has a digest that is not sha256:<64 hex digits>");
  return hex;
}

// The config's rootfs.diff_ids, as hex, bottom layer first.
Result<std::vector<std::string>> diff_ids_of(const Json& config) {
  const auto rootfs = config.find("rootfs");
  if (rootfs == config.end())
    return bad("the image config has no rootfs, so its layers cannot be checked");
  const auto ids = rootfs->find("diff_ids");
  if (ids == rootfs->end() || !ids->is_array())
    return bad("the image config has no rootfs.diff_ids, so its layers cannot be checked");
  std::vector<std::string> out;
  for (const auto& id : *ids) {
    out.push_back(id.is_string() ? sha256_of(id.get<std::string>()) : "");
    if (out.back().empty())
      return bad("the image config has a rootfs.diff_ids entry that is not sha256:<64 hex>");
  }
  return out;
}

// The digest a docker-save config's name carries: "blobs/sha256/<hex>"
// (docker 25 and later), "<hex>.json" (older docker, podman, skopeo) or
// "sha256:<hex>" (crane). A config named otherwise ("config.json") is read
// unchecked: nothing else in a docker-save archive names the config's
// digest, so the config is the archive's root either way, and what binds
// the layers to it — its rootfs.diff_ids — is checked for every layer.
std::string config_name_digest(std::string_view name) {
  if (name.ends_with(".json") && is_hex64(name.substr(0, name.size() - 5)))
    return std::string(name.substr(0, name.size() - 5));
  const std::string blob = blob_name_digest(name);
  return blob.empty() ? sha256_of(name) : blob;
}

// docker save: manifest.json = [{Config, RepoTags, Layers}]. Layer names
// carry no digest in the old format ("<id>/layer.tar"), so every layer is
// checked against the config's rootfs.diff_ids, in order; one named
// blobs/sha256/<hex> (docker 25 and later) is also checked against that.
Result<Parsed> parse_docker_save(const UniqueFd& dir) {
  HULL_ASSIGN(Json m, read_json(dir, "manifest.json", "manifest.json"));
  if (!m.is_array() || m.empty() || !m[0].is_object()) return bad("manifest.json lists no image");
  if (m.size() > 1)
    return bad("holds " + std::to_string(m.size()) + " images; import one at a time");
  const Json& image = m[0];
  const auto cfg = image.find("Config");
  if (cfg == image.end() || !cfg->is_string()) return bad("manifest.json has no Config");
  const std::string cfg_name = cfg->get<std::string>();
  Parsed p{"docker-save", {}, {}};
  HULL_ASSIGN(p.config, read_json(dir, cfg_name, "the image config", config_name_digest(cfg_name)));
  HULL_ASSIGN(std::vector<std::string> diff_ids, diff_ids_of(p.config));
  const auto layers = image.find("Layers");
  if (layers == image.end() || !layers->is_array()) return bad("manifest.json has no Layers list");
  if (layers->size() != diff_ids.size())
    return bad("manifest.json lists " + std::to_string(layers->size()) +
               " layers but the image config's rootfs.diff_ids lists " +
               std::to_string(diff_ids.size()) + "; the archive is damaged or was altered");
  for (size_t i = 0; i < diff_ids.size(); ++i) {
    const Json& l = (*layers)[i];
    if (!l.is_string()) return bad("manifest.json names a layer that is not a path");
    std::string name = l.get<std::string>();
    std::string blob = blob_name_digest(name);
    p.layers.push_back({std::move(name), std::move(blob), diff_ids[i]});
  }
  return p;
}

// OCI layout: index.json → manifest → config + layers, each a blob named by
// its digest and checked against it. (The config's diff_ids add nothing:
// the manifest already pins every layer's bytes.)
Result<Parsed> parse_oci_layout(const UniqueFd& dir) {
  HULL_ASSIGN(Json layout, read_json(dir, "oci-layout", "oci-layout"));
  if (!layout.is_object()) return bad("oci-layout is not a JSON object");
  HULL_ASSIGN(Json index, read_json(dir, "index.json", "index.json"));
  const auto ms = index.find("manifests");
  if (ms == index.end() || !ms->is_array() || ms->empty())
    return bad("index.json lists no manifest");
  if (ms->size() > 1) return bad("index.json lists several images; import one at a time");
  HULL_ASSIGN(std::string mhex, descriptor_digest((*ms)[0], "the manifest"));
  HULL_ASSIGN(Json manifest, read_json(dir, "blobs/sha256/" + mhex, "the manifest", mhex));
  if (manifest.contains("manifests"))
    return bad("is a multi-platform index; export one platform (linux/amd64)");
  const auto cfg = manifest.find("config");
  if (cfg == manifest.end()) return bad("the manifest names no image config");
  HULL_ASSIGN(std::string chex, descriptor_digest(*cfg, "the image config"));
  Parsed p{"oci-layout", {}, {}};
  HULL_ASSIGN(p.config, read_json(dir, "blobs/sha256/" + chex, "the image config", chex));
  const auto layers = manifest.find("layers");
  if (layers == manifest.end()) return p;
  if (!layers->is_array()) return bad("the manifest's layers are not a list");
  for (size_t i = 0; i < layers->size(); ++i) {
    HULL_ASSIGN(std::string hex, descriptor_digest((*layers)[i], "layer " + std::to_string(i + 1)));
    p.layers.push_back({"blobs/sha256/" + hex, hex, ""});
  }
  return p;
}

// Opens the layer once, checks it against its digests from that fd, then
// applies that same fd: what was checked is what is applied.
Status apply_checked(const UniqueFd& dir, const UniqueFd& rootfs, const LayerRef& l,
                     LayerBudget& budget) {
  if (l.blob.empty() && l.diff_id.empty())
    return bad(printable_path(l.name) + " has no digest to check");
  HULL_ASSIGN(UniqueFd f, open_archive_file(dir, l.name));
  HULL_ASSIGN(LayerDigests d, digest_layer(f, budget));
  if (!l.blob.empty() && d.blob != l.blob)
    return bad(printable_path(l.name) + " does not match its digest sha256:" + l.blob +
               "; the archive is damaged or was altered");
  if (!l.diff_id.empty() && d.diff_id != l.diff_id)
    return bad(printable_path(l.name) +
               " does not match the image config's rootfs.diff_ids entry sha256:" + l.diff_id +
               "; the archive is damaged or was altered");
  HULL_TRY(apply_layer_fd(rootfs, f, budget));
  return ok_status();
}

}  // namespace

Result<ImportResult> import_image(ImageStore& store, const std::string& archive,
                                  const std::string& tag, int progress_fd,
                                  const LayerLimits& limits) {
  if (!tag.empty() && !ImageStore::valid_tag(tag))
    return make_error("invalid image name '" + tag + "'",
                      "use lower-case letters, digits, '.', '_', '-', ':'");
  auto say = [&](const std::string& line) {
    if (progress_fd >= 0) dprintf(progress_fd, "%s\n", line.c_str());
  };
  auto failed = [&](const std::string& what) { return make_error("import " + archive, what); };
  // The outer archive, unpacked privately (0700) in a staging dir of its
  // own: locked like any build's, so no other stage() or gc takes it for a
  // dead one; never published (its rootfs/ stays empty). It gets limits of
  // its own: it holds the layers packed, and they count against the image's
  // budget when applied.
  HULL_ASSIGN(Staging scratch, store.stage());
  const std::string outer_dir = scratch.dir() + "/archive";
  HULL_TRY(sys::mkdir_p(outer_dir, 0700));
  say("unpacking " + archive);
  if (auto st = apply_layer(outer_dir, archive); !st) return failed(st.error().message());
  HULL_ASSIGN(UniqueFd dir, sys::open(outer_dir, O_RDONLY | O_DIRECTORY));
  const bool oci = sys::exists(outer_dir + "/index.json") && sys::exists(outer_dir + "/oci-layout");
  Result<Parsed> parsed =
      oci ? parse_oci_layout(dir)
      : sys::exists(outer_dir + "/manifest.json")
          ? parse_docker_save(dir)
          : Result<Parsed>(bad("neither a docker save archive (manifest.json) nor an OCI layout "
                               "(index.json)"));
  if (!parsed) return failed(parsed.error().message());

  HULL_ASSIGN(Staging staging, store.stage());
  HULL_ASSIGN(UniqueFd rootfs, sys::open(staging.rootfs(), O_RDONLY | O_DIRECTORY));
  LayerBudget budget{limits};  // one for the whole image, not one per layer
  const std::string of = "/" + std::to_string(parsed->layers.size());
  for (size_t i = 0; i < parsed->layers.size(); ++i) {
    say("layer " + std::to_string(i + 1) + of);
    if (auto st = apply_checked(dir, rootfs, parsed->layers[i], budget); !st)
      return failed("layer " + std::to_string(i + 1) + of + ": " + st.error().message());
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
