// The package-install profile (image builds in a namespace sandbox) is a
// weakening: its root may chown, chroot and mount, in its own user namespace
// only. It must be visible as such, refused where the sandbox could write to
// the host, and still give no power over the host.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "../integration/cli_harness.h"

namespace hull::testing {
namespace {

namespace fs = std::filesystem;

class PackageInstallProfile : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    rootfs_ = cached_default_rootfs();
    if (rootfs_.empty()) GTEST_SKIP() << "the default image is not built; run `hull image prepare-default` first";
    if (!backend_usable("namespace")) GTEST_SKIP() << "the namespace backend cannot run here (see hull doctor)";
  }
};

TEST_F(PackageInstallProfile, IsRefusedWithAWritableWorkspace) {
  fs::create_directories(home_ + "/ws");
  auto r = run_hull({"run", "--rm", "--backend", "namespace", "--rootfs", rootfs_, "--weaken-for-package-install",
                     "--workspace", home_ + "/ws", "--", "true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("--workspace-ro"), std::string::npos) << r.err;
}

TEST_F(PackageInstallProfile, RootMayChownChrootAndMountInsideAndTheWeakeningIsShown) {
  fs::create_directories(home_ + "/repo");
  ASSERT_EQ(run_hull({"run", "-d", "--name", "b", "--backend", "namespace", "--rootfs", rootfs_,
                      "--weaken-for-package-install", "--workspace", home_ + "/repo", "--workspace-ro", "--",
                      "sleep", "1000"})
                .exit_code,
            0);
  auto r = run_hull({"exec", "b", "--", "sh", "-c",
                     "set -e; mkdir -p /var/tmp/t/dev /var/tmp/t/bin; touch /var/tmp/t/dev/null; "
                     "chown 1:1 /var/tmp/t/bin; mount -o bind /dev/null /var/tmp/t/dev/null; "
                     "cp /bin/sh /var/tmp/t/sh && chmod 4755 /var/tmp/t/sh; umount /var/tmp/t/dev/null; "
                     "chroot / true; echo done"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "done\n");
  // No power outside its namespaces: the host's own files are not its.
  auto host = run_hull({"exec", "b", "--", "sh", "-c", "touch /workspace/x"});
  EXPECT_NE(host.exit_code, 0) << "the read-only input was written";
  EXPECT_FALSE(fs::exists(home_ + "/repo/x"));
  auto info = inspect_json("b");
  EXPECT_NE(info["state"]["limits_report"].value("profile", "").find("WEAKENED"), std::string::npos) << info.dump();
  EXPECT_EQ(info["state"]["limits_report"].value("landlock", "").rfind("off", 0), 0u) << info.dump();
}

}  // namespace
}  // namespace hull::testing
