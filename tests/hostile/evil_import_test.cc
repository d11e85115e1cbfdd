// Hostile archives for `hull image import` (issue 12, item 4). An archive is
// someone else's bytes: every path its manifests name must resolve inside the
// unpacked archive without crossing a symlink, every blob must match a digest
// whatever its name, the layers of one image share one byte and entry budget,
// and its JSON has bounded nesting. Each test builds its archive with the
// real tar and runs the real `hull` with its own HULL_HOME (the budget test
// calls the library, to pass small limits), then checks that the import
// failed saying why and that nothing of the "host" reached the store.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "../integration/cli_harness.h"
#include "base/digest.h"
#include "base/temp_dir.h"
#include "image/oci_import.h"
#include "image/store.h"

namespace hull::testing {
namespace {

namespace fs = std::filesystem;

// What stands for a host secret: it must never appear in HULL_HOME.
constexpr char kMarker[] = "host-secret-7f3a9c";

void write(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

void sh(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }

std::string hex_of(const std::string& path) { return sha256_file_hex(path).value(); }

class EvilImport : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    // Archives are made in work_; host_ stands for the host's own files.
    // Both lie outside HULL_HOME, so a marker found there got in by import.
    for (auto* d : {&work_, &host_}) {
      auto t = TempDir::create("/tmp", "hull-evil-import-");
      ASSERT_TRUE(t.ok()) << t.error().message();
      d->emplace(std::move(*t));
    }
  }

  std::string work(const std::string& rel) const { return work_->path() + "/" + rel; }
  std::string host(const std::string& rel) const { return host_->path() + "/" + rel; }

  // A layer tar at `tar` holding one file `name` with `content`.
  static std::string layer_of(const std::string& tar, const std::string& name,
                              const std::string& content) {
    const std::string tree = tar + ".tree";
    write(tree + "/" + name, content);
    sh("tar --sort=name --numeric-owner -C " + tree + " -cf " + tar + " .");
    fs::remove_all(tree);
    return tar;
  }

  // An image config whose rootfs.diff_ids are those of these (uncompressed) tars.
  static std::string config_for(const std::vector<std::string>& layer_tars,
                                const std::string& env = "A=1") {
    std::string ids;
    for (const auto& l : layer_tars)
      ids += (ids.empty() ? "\"sha256:" : ",\"sha256:") + hex_of(l) + "\"";
    return R"({"architecture":"amd64","os":"linux","config":{"Env":[")" + env +
           R"("]},"rootfs":{"type":"layers","diff_ids":[)" + ids + "]}}";
  }

  // The archive of a directory (symlinks stored as symlinks).
  static std::string pack(const std::string& dir) {
    const std::string out = dir + ".tar";
    sh("tar -C " + dir + " -cf " + out + " .");
    return out;
  }

  // An OCI layout in `layout`: blobs/sha256/<hex>, index.json, oci-layout.
  static void write_oci_layout(const std::string& layout, const std::vector<std::string>& layers,
                               const std::string& config) {
    auto blob = [&](const std::string& file, const std::string& media) {
      const std::string hex = hex_of(file);
      fs::create_directories(layout + "/blobs/sha256");
      fs::copy_file(file, layout + "/blobs/sha256/" + hex, fs::copy_options::overwrite_existing);
      return R"({"mediaType":")" + media + R"(","digest":"sha256:)" + hex + R"(","size":)" +
             std::to_string(fs::file_size(file)) + "}";
    };
    write(layout + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    write(layout + ".config.json", config);
    std::string ls;
    for (const auto& l : layers)
      ls += (ls.empty() ? "" : ",") + blob(l, "application/vnd.oci.image.layer.v1.tar");
    write(layout + ".manifest.json",
          R"({"schemaVersion":2,"config":)" +
              blob(layout + ".config.json", "application/vnd.oci.image.config.v1+json") +
              R"(,"layers":[)" + ls + "]}");
    write(layout + "/index.json",
          R"({"schemaVersion":2,"manifests":[)" +
              blob(layout + ".manifest.json", "application/vnd.oci.image.manifest.v1+json") + "]}");
  }

  // A docker-save archive directory: manifest.json naming `config_name` and `layer_names`.
  static void write_manifest(const std::string& dir, const std::string& config_name,
                             const std::vector<std::string>& layer_names) {
    std::string ls;
    for (const auto& l : layer_names) ls += (ls.empty() ? "\"" : ",\"") + l + "\"";
    write(dir + "/manifest.json",
          R"([{"Config":")" + config_name + R"(","RepoTags":["evil:1"],"Layers":[)" + ls + "]}]");
  }

  // `hull image import` of `archive` must fail (exit 125), publish nothing,
  // and leave no file holding kMarker anywhere under HULL_HOME.
  HullResult import_fails(const std::string& archive) {
    auto r = run_hull({"image", "import", archive, "--tag", "evil"});
    EXPECT_EQ(r.exit_code, 125) << "stdout: " << r.out << "\nstderr: " << r.err;
    EXPECT_EQ(files_holding_marker(), std::vector<std::string>{});
    auto ls = nlohmann::json::parse(run_hull({"image", "ls", "--json"}).out, nullptr, false);
    EXPECT_TRUE(ls.is_array() && ls.empty()) << ls.dump();
    return r;
  }

  // Regular files under HULL_HOME whose bytes hold kMarker (symlinks are not followed).
  std::vector<std::string> files_holding_marker() const {
    std::vector<std::string> found;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(home_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
      std::ifstream in(it->path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      if (bytes.find(kMarker) != std::string::npos) found.push_back(it->path().string());
    }
    return found;
  }

  std::optional<TempDir> work_, host_;
};

// (a) "h -> /" then "Layers": ["h/<host path>"]: before the fix an lstat of
// the last component passed and the host's tar became a layer of the image.
TEST_F(EvilImport, ImportRefusesALayerPathThatClimbsThroughASymlink) {
  const std::string stolen = layer_of(host("backup.tar"), "stolen", kMarker);
  const std::string dir = work("save");
  fs::create_directories(dir);
  fs::create_symlink("/", dir + "/h");
  // Even the diff_id is right: only the path is wrong.
  write(dir + "/config.json", config_for({stolen}));
  write_manifest(dir, "config.json", {"h" + stolen});
  auto r = import_fails(pack(dir));
  EXPECT_NE(r.err.find("resolve inside it"), std::string::npos) << r.err;
}

// (b) The same trick for Config: the host's JSON would become the image's
// run config (its Env is stored in image.json).
TEST_F(EvilImport, ImportRefusesAConfigPathThatClimbsThroughASymlink) {
  const std::string layer = layer_of(work("layer.tar"), "etc/motd", "hello\n");
  const std::string dir = work("save");
  write(host("config.json"), config_for({layer}, std::string("STOLEN=") + kMarker));
  fs::create_directories(dir + "/abc");
  fs::copy_file(layer, dir + "/abc/layer.tar");
  fs::create_symlink("/", dir + "/h");
  write_manifest(dir, "h" + host("config.json"), {"abc/layer.tar"});
  auto r = import_fails(pack(dir));
  EXPECT_NE(r.err.find("resolve inside it"), std::string::npos) << r.err;
}

// (c) An OCI layout whose blobs/ is a symlink to a host directory holding
// blobs with the right digests: every digest check passed before the fix.
TEST_F(EvilImport, ImportRefusesABlobPathWithASymlinkInTheMiddle) {
  const std::string layer = layer_of(work("layer.tar"), "stolen", kMarker);
  const std::string layout = work("layout");
  write_oci_layout(layout, {layer}, config_for({layer}));
  fs::rename(layout + "/blobs", host("blobs"));
  fs::create_symlink(host("blobs"), layout + "/blobs");
  fs::remove(layer);  // the marker now lives only in the host's blobs
  auto r = import_fails(pack(layout));
  EXPECT_NE(r.err.find("resolve inside it"), std::string::npos) << r.err;
}

// The OCI layout's own files are named by the format, not a manifest, but
// they too are read inside the archive only: index.json -> a host file.
TEST_F(EvilImport, ImportRefusesAnIndexJsonThatIsASymlinkToTheHost) {
  const std::string layer = layer_of(work("layer.tar"), "etc/motd", "hello\n");
  const std::string layout = work("layout");
  write_oci_layout(layout, {layer}, config_for({layer}));
  fs::rename(layout + "/index.json", host("index.json"));
  fs::create_symlink(host("index.json"), layout + "/index.json");
  auto r = import_fails(pack(layout));
  EXPECT_NE(r.err.find("resolve inside it"), std::string::npos) << r.err;
}

// Symlinks still resolve, but inside the archive: docker before 25 saves a
// layer that repeats an earlier one (same diff_id) as
// "<id2>/layer.tar -> ../<id1>/layer.tar". Such an archive imports.
TEST_F(EvilImport, ASymlinkInsideTheArchiveAsOldDockerSaveWritesItResolvesThere) {
  const std::string layer = layer_of(work("layer.tar"), "etc/motd", "hello\n");
  const std::string dir = work("save");
  const std::string id1(64, '1'), id2(64, '2');
  write(dir + "/config.json", config_for({layer, layer}));
  fs::create_directories(dir + "/" + id1);
  fs::create_directories(dir + "/" + id2);
  fs::copy_file(layer, dir + "/" + id1 + "/layer.tar");
  fs::create_symlink("../" + id1 + "/layer.tar", dir + "/" + id2 + "/layer.tar");
  write_manifest(dir, "config.json", {id1 + "/layer.tar", id2 + "/layer.tar"});
  auto r = run_hull({"image", "import", pack(dir), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["layers"], 2);
}

// (d) Old `docker save` names layers "<id>/layer.tar": no digest in the
// name, so the config's rootfs.diff_ids are what a layer must hash to.
TEST_F(EvilImport, ImportRefusesAnOldFormatLayerThatDoesNotMatchTheConfigsDiffIds) {
  const std::string real = layer_of(work("real.tar"), "etc/motd", "as built\n");
  const std::string swapped = layer_of(work("swapped.tar"), "etc/motd", "swapped in\n");
  const std::string id(64, 'a');
  auto archive = [&](const std::string& name, const std::string& layer) {
    const std::string dir = work(name);
    const std::string config = config_for({real});
    write(work(name + ".config"), config);
    const std::string config_name = hex_of(work(name + ".config")) + ".json";  // old docker's name
    write(dir + "/" + config_name, config);
    fs::create_directories(dir + "/" + id);
    fs::copy_file(layer, dir + "/" + id + "/layer.tar");
    write_manifest(dir, config_name, {id + "/layer.tar"});
    return pack(dir);
  };
  auto r = import_fails(archive("swapped", swapped));
  EXPECT_NE(r.err.find("diff_ids"), std::string::npos) << r.err;
  // The same archive with the layer it was built from imports.
  auto ok = run_hull({"image", "import", archive("real", real)});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST_F(EvilImport, ImportRefusesALayerListLongerThanTheConfigsDiffIds) {
  const std::string real = layer_of(work("real.tar"), "etc/motd", "as built\n");
  const std::string extra = layer_of(work("extra.tar"), "etc/extra", "smuggled\n");
  const std::string dir = work("save");
  write(dir + "/config.json", config_for({real}));
  fs::create_directories(dir + "/one");
  fs::create_directories(dir + "/two");
  fs::copy_file(real, dir + "/one/layer.tar");
  fs::copy_file(extra, dir + "/two/layer.tar");
  write_manifest(dir, "config.json", {"one/layer.tar", "two/layer.tar"});
  auto r = import_fails(pack(dir));
  EXPECT_NE(r.err.find("diff_ids"), std::string::npos) << r.err;
}

// Old docker names the config "<hex>.json" after its digest: it must hash to it.
TEST_F(EvilImport, ImportRefusesAConfigThatDoesNotHashToTheDigestInItsName) {
  const std::string layer = layer_of(work("layer.tar"), "etc/motd", "hello\n");
  const std::string dir = work("save");
  const std::string name = std::string(64, 'c') + ".json";
  write(dir + "/" + name, config_for({layer}));
  fs::create_directories(dir + "/abc");
  fs::copy_file(layer, dir + "/abc/layer.tar");
  write_manifest(dir, name, {"abc/layer.tar"});
  auto r = import_fails(pack(dir));
  EXPECT_NE(r.err.find("does not match its digest"), std::string::npos) << r.err;
}

// (e) Limits hold for the image, not for each layer: three layers, each
// within the limits, together over them.
TEST_F(EvilImport, ImportHoldsAllLayersOfAnImageToOneBudget) {
  std::vector<std::string> layers;
  for (int i = 0; i < 3; ++i)  // each: "./" and one 600-byte file
    layers.push_back(layer_of(work("l" + std::to_string(i) + ".tar"), "f" + std::to_string(i),
                              std::string(600, 'x')));
  write_oci_layout(work("layout"), layers, config_for(layers));
  const std::string archive = pack(work("layout"));
  image::ImageStore store(home_ + "/data/images");

  auto bytes = image::import_image(store, archive, "", -1, {.max_bytes = 1000});
  ASSERT_FALSE(bytes.ok()) << "imported " << bytes->image.digest;
  EXPECT_NE(bytes.error().message().find("limit of 1000 bytes"), std::string::npos)
      << bytes.error().message();
  auto entries = image::import_image(store, archive, "", -1, {.max_entries = 4});
  ASSERT_FALSE(entries.ok()) << "imported " << entries->image.digest;
  EXPECT_NE(entries.error().message().find("more than 4 entries"), std::string::npos)
      << entries.error().message();
  auto names = image::import_image(store, archive, "", -1, {.max_name_bytes = 10});
  EXPECT_FALSE(names.ok()) << "imported " << names->image.digest;
  auto list = store.list();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
  // A budget the three fit in together: imported.
  auto fits = image::import_image(store, archive, "", -1, {.max_entries = 6, .max_bytes = 1800});
  EXPECT_TRUE(fits.ok()) << fits.error().message();
}

// (f) JSON nested 100000 deep, in a field hull reads (Env), one it ignores
// (Labels) and the manifest: refused before nlohmann builds it (its copies
// recurse once per level, and the stack is not that deep).
TEST_F(EvilImport, ImportRefusesDeeplyNestedJsonWithAClearError) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::string layer = layer_of(work("layer.tar"), "etc/motd", "hello\n");
  const std::string ids =
      R"("rootfs":{"type":"layers","diff_ids":["sha256:)" + hex_of(layer) + R"("]})";
  struct Case {
    std::string name, config, layers;
  };
  const std::vector<Case> cases = {
      {"labels", R"({"config":{"Labels":{"x":)" + deep + "}}," + ids + "}", R"("abc/layer.tar")"},
      {"env", R"({"config":{"Env":)" + deep + "}," + ids + "}", R"("abc/layer.tar")"},
      {"manifest", "{" + ids + "}", deep},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string dir = work(c.name);
    write(dir + "/config.json", c.config);
    fs::create_directories(dir + "/abc");
    fs::copy_file(layer, dir + "/abc/layer.tar");
    write(dir + "/manifest.json", R"([{"Config":"config.json","Layers":[)" + c.layers + "]}]");
    auto r = import_fails(pack(dir));
    EXPECT_NE(r.err.find("nested deeper than"), std::string::npos) << r.err.substr(0, 500);
  }
}

}  // namespace
}  // namespace hull::testing
