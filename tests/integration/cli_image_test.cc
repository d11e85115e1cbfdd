// `hull image import` of archives made here with tar (no registry, no
// network): an OCI layout and a docker-save archive import, inspect, tag
// and remove; a layer with a path escape is rejected and writes nothing
// outside the store.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/digest.h"
#include "cli_harness.h"

namespace hull::testing {
namespace {

namespace fs = std::filesystem;

void write(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

void sh(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }

std::string sha_of(const std::string& path) { return sha256_file_hex(path).value(); }

class CliImage : public CliTest {
 protected:
  // A layer tar from a directory tree (GNU tar, numeric owners, sorted).
  std::string make_layer(const std::string& name, const std::string& tree) {
    std::string out = home_ + "/" + name + ".tar";
    sh("tar --sort=name --numeric-owner -C " + tree + " -cf " + out + " .");
    return out;
  }

  // blobs/sha256/<hex> for a file; returns "sha256:<hex>".
  std::string add_blob(const std::string& layout, const std::string& file) {
    std::string hex = sha_of(file);
    fs::create_directories(layout + "/blobs/sha256");
    fs::copy_file(file, layout + "/blobs/sha256/" + hex, fs::copy_options::overwrite_existing);
    return "sha256:" + hex;
  }

  // An OCI layout tar with the given layers and config.
  std::string make_oci(const std::vector<std::string>& layers, const std::string& config) {
    std::string layout = home_ + "/layout";
    fs::remove_all(layout);
    fs::create_directories(layout);
    write(layout + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    write(home_ + "/config.json", config);
    std::string cfg = add_blob(layout, home_ + "/config.json");
    std::string ls;
    for (const auto& l : layers) {
      std::string d = add_blob(layout, l);
      ls += std::string(ls.empty() ? "" : ",") +
            R"({"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" + d + R"(","size":)" +
            std::to_string(fs::file_size(l)) + "}";
    }
    write(home_ + "/manifest.json",
          R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
              cfg + R"(","size":)" + std::to_string(fs::file_size(home_ + "/config.json")) + R"(},"layers":[)" + ls +
              "]}");
    std::string m = add_blob(layout, home_ + "/manifest.json");
    write(layout + "/index.json",
          R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
              m + R"(","size":)" + std::to_string(fs::file_size(home_ + "/manifest.json")) + "}]}");
    std::string out = home_ + "/image.tar";
    sh("tar -C " + layout + " -cf " + out + " .");
    return out;
  }

  std::string base_layer() {
    std::string t = home_ + "/tree1";
    write(t + "/etc/motd", "hello from the image\n");
    write(t + "/etc/gone", "deleted by layer 2\n");
    fs::create_directories(t + "/bin");
    fs::copy_file(std::string(HULL_TEST_BIN_DIR) + "/ns_probe", t + "/bin/probe");
    return make_layer("layer1", t);
  }

  std::string config_json() const {
    return R"({"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin","GREETING=hi"],)"
           R"("Entrypoint":["/bin/probe"],"Cmd":["--help"],"WorkingDir":"/etc","User":"1000:1000",)"
           R"("Healthcheck":{"Test":["CMD-SHELL","test -f /etc/motd"],"Interval":2000000000,"Retries":4}},)"
           R"("rootfs":{"type":"layers","diff_ids":[]}})";
  }
};

TEST_F(CliImage, OciLayoutImportsWithItsConfigAndWhiteouts) {
  std::string t2 = home_ + "/tree2";
  write(t2 + "/etc/.wh.gone", "");
  write(t2 + "/etc/added", "layer two\n");
  std::string archive = make_oci({base_layer(), make_layer("layer2", t2)}, config_json());

  auto r = run_hull({"image", "import", archive, "--tag", "probe:1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["format"], "oci-layout");
  EXPECT_EQ(j["layers"], 2);
  EXPECT_EQ(j["config"]["cmd"], (std::vector<std::string>{"/bin/probe", "--help"}));
  EXPECT_EQ(j["config"]["env"]["GREETING"], "hi");
  EXPECT_EQ(j["config"]["workdir"], "/etc");
  EXPECT_EQ(j["config"]["user"], "1000:1000");
  // Docker's Healthcheck: a shell form, ns durations, default timeout.
  EXPECT_EQ(j["config"]["health"]["cmd"], (std::vector<std::string>{"/bin/sh", "-c", "test -f /etc/motd"}));
  EXPECT_EQ(j["config"]["health"]["interval_ms"], 2000);
  EXPECT_EQ(j["config"]["health"]["timeout_ms"], 5000);
  EXPECT_EQ(j["config"]["health"]["retries"], 4);
  const std::string rootfs = j["path"];
  EXPECT_TRUE(fs::exists(rootfs + "/etc/motd"));
  EXPECT_TRUE(fs::exists(rootfs + "/etc/added"));
  EXPECT_FALSE(fs::exists(rootfs + "/etc/gone")) << "whiteout of layer 2";
  EXPECT_FALSE(fs::exists(rootfs + "/etc/.wh.gone"));

  // Same archive again: same digest, still one image.
  auto again = run_hull({"image", "import", archive});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, j["digest"].get<std::string>() + "\n");
  auto ls = nlohmann::json::parse(run_hull({"image", "ls", "--json"}).out);
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_EQ(ls[0]["tags"], (std::vector<std::string>{"probe:1"}));

  auto inspect = run_hull({"image", "inspect", "probe:1"});
  EXPECT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find(j["digest"].get<std::string>()), std::string::npos);
  EXPECT_NE(inspect.out.find("(every 2000 ms, timeout 5000 ms, unhealthy after 4)"), std::string::npos) << inspect.out;
  auto rm = run_hull({"image", "rm", "probe:1"});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_FALSE(fs::exists(rootfs));
  EXPECT_EQ(run_hull({"image", "inspect", "probe:1"}).exit_code, 125);
}

// The imported image runs: its Entrypoint+Cmd when no command is given, in
// its WorkingDir, with its Env (flags override) — on the backend under test.
TEST_F(CliImage, ImportedImageRunsItsDefaultCommand) {
  HULL_REQUIRE_IMAGE();
  std::string t = home_ + "/hello-tree";
  fs::create_directories(t + "/bin");
  fs::create_directories(t + "/srv");
  fs::copy_file(std::string(HULL_TEST_BIN_DIR) + "/hello_static", t + "/bin/hello");
  std::string archive = make_oci(
      {make_layer("hello", t)},
      R"({"config":{"Env":["GREETING=hi"],"Entrypoint":["/bin/hello"],"Cmd":["a","b"],"WorkingDir":"/srv"}})");
  auto imp = run_hull({"image", "import", archive, "--tag", "hello"});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  auto r = run_hull({"run", "--rm", "--image", "hello"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "cwd=/srv greeting=hi args=a,b\n");
  auto o = run_hull({"run", "--rm", "--image", "hello", "--env", "GREETING=yo", "--", "/bin/hello", "x"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out, "cwd=/srv greeting=yo args=x\n");
  auto info = run_hull({"run", "--image", "no-such-image", "--", "true"});
  EXPECT_EQ(info.exit_code, 125);
  EXPECT_NE(info.err.find("no image 'no-such-image'"), std::string::npos) << info.err;
}

// Old-format names: "abc/layer.tar" carries no digest, so the layer is
// checked against the config's rootfs.diff_ids (docker save always writes
// them). "cfg.json" carries none either: a config named so is accepted
// (oci_import.cc says why); one named "<hex>.json" must hash to <hex>.
TEST_F(CliImage, DockerSaveArchiveImports) {
  std::string dir = home_ + "/save";
  std::string layer = base_layer();
  fs::create_directories(dir + "/abc");
  fs::copy_file(layer, dir + "/abc/layer.tar");
  std::string config = config_json();
  const std::string no_ids = R"("diff_ids":[])";
  config.replace(config.find(no_ids), no_ids.size(),
                 R"("diff_ids":["sha256:)" + sha_of(layer) + R"("])");
  write(dir + "/cfg.json", config);
  write(dir + "/manifest.json", R"([{"Config":"cfg.json","RepoTags":["probe:1"],"Layers":["abc/layer.tar"]}])");
  sh("tar -C " + dir + " -cf " + home_ + "/save.tar .");
  auto r = run_hull({"image", "import", home_ + "/save.tar", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["format"], "docker-save");
  EXPECT_TRUE(fs::exists(j["path"].get<std::string>() + "/bin/probe"));
}

// A layer whose tar holds "../escaped": rejected, with a clear error, and
// nothing lands outside the store (the file would appear next to the
// staging rootfs or above it) — nor a half image inside it.
TEST_F(CliImage, PathEscapeInALayerIsRejectedAndWritesNothingOutside) {
  std::string evil_dir = home_ + "/evil";
  write(evil_dir + "/x/escaped", "pwned\n");
  std::string layer = home_ + "/evil.tar";
  // -P keeps the "../" in the member name; the transform makes the path.
  sh("tar -P -C " + evil_dir + "/x --transform='s,^escaped,../escaped,' -cf " + layer + " escaped");
  sh("tar -tf " + layer + " | grep -qx '../escaped'");  // the test layer really is hostile
  fs::remove_all(evil_dir);
  std::string archive = make_oci({base_layer(), layer}, config_json());
  auto r = run_hull({"image", "import", archive, "--tag", "evil"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find(".."), std::string::npos) << r.err;
  for (const auto& e : fs::recursive_directory_iterator(home_)) {
    EXPECT_NE(e.path().filename(), "escaped") << "written outside: " << e.path();
  }
  auto ls = nlohmann::json::parse(run_hull({"image", "ls", "--json"}).out);
  EXPECT_TRUE(ls.empty()) << ls.dump();
  EXPECT_EQ(run_hull({"image", "inspect", "evil"}).exit_code, 125);
}

TEST_F(CliImage, ABlobThatDoesNotMatchItsDigestIsRejected) {
  std::string archive = make_oci({base_layer()}, config_json());
  // Corrupt the layer blob inside the layout and re-pack.
  for (const auto& e : fs::directory_iterator(home_ + "/layout/blobs/sha256"))
    if (fs::file_size(e.path()) > 4096) std::ofstream(e.path(), std::ios::app) << "tampered";
  sh("tar -C " + home_ + "/layout -cf " + archive + " .");
  auto r = run_hull({"image", "import", archive});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("does not match its digest"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hull::testing
