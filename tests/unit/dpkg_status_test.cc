// Reading an image's dpkg database without dpkg: parse_dpkg_status against
// hand-made and hostile stanzas, the same answer as dpkg-query on a real
// Debian tree, and installed_packages() never leaving the rootfs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/command.h"
#include "base/temp_dir.h"
#include "image/debian_packages.h"
#include "image/image_manifest.h"

namespace hull::image {
namespace {

namespace fs = std::filesystem;

constexpr const char* kStatus =
    "Package: zlib1g\n"
    "Status: install ok installed\n"
    "Priority: optional\n"
    "Architecture: amd64\n"
    "Multi-Arch: same\n"
    "Version: 1:1.2.13.dfsg-1\n"
    "Description: compression library - runtime\n"
    " zlib is a library implementing the deflate compression method found\n"
    " .\n"
    " in gzip and PKZIP.\n"
    "\n"
    "Package: oldconf\n"
    "Status: deinstall ok config-files\n"
    "Architecture: all\n"
    "Version: 1.0\n"
    "\n"
    "package: adduser\n"  // deb822 field names are case-insensitive
    "status: install ok installed\n"
    "architecture: all\n"
    "version: 3.134\n"
    "Conffiles:\n"
    " /etc/adduser.conf cc3493ecd2d09837ffdcc3e25fdfff18\n";

TEST(DpkgStatus, InstalledPackagesOnlySortedByName) {
  auto r = parse_dpkg_status(kStatus);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0], (DebPackage{"adduser", "3.134", "all", "", 0}));
  EXPECT_EQ((*r)[1], (DebPackage{"zlib1g", "1:1.2.13.dfsg-1", "amd64", "", 0}));
}

TEST(DpkgStatus, HostileEntriesAreErrors) {
  const char* bad[] = {
      "Package: ok\nStatus: install ok installed\nArchitecture: all\nVersion: 1;rm -rf /\n",
      "Package: ../../etc\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n",
      "Status: install ok installed\nVersion: 1\n",  // no Package
      ("Package: a\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n\n"
       "Package: a\nStatus: install ok installed\nArchitecture: all\nVersion: 2\n"),  // twice
      "Package: a\nnot a field line\n",
  };
  for (const char* text : bad) EXPECT_FALSE(parse_dpkg_status(text)) << text;
  EXPECT_TRUE(parse_dpkg_status("")) << "an empty database is an empty list";
}

// The real thing: a Debian tree's database read by us and by dpkg-query.
TEST(DpkgStatus, AgreesWithDpkgQueryOnARealDebianTree) {
  const char* rootfs = std::getenv("HULL_TEST_ROOTFS");
  if (rootfs == nullptr || !fs::exists(fs::path(rootfs) / "var/lib/dpkg/status"))
    GTEST_SKIP() << "HULL_TEST_ROOTFS (a Debian tree; ./bootstrap test sets it) is not set";
  auto ours = installed_packages(rootfs);
  ASSERT_TRUE(ours) << ours.error().message();
  auto q = Command("dpkg-query")
               .arg(std::string("--admindir=") + rootfs + "/var/lib/dpkg")
               .arg("-W")
               .arg("-f=${db:Status-Abbrev}\t${Package}\t${Version}\n")
               .capture_stdout()
               .run();
  ASSERT_TRUE(q) << q.error().message();
  std::string expected;
  std::istringstream lines(q->out);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with("ii ")) expected += line.substr(line.find('\t') + 1) + "\n";
  std::string got;
  for (const auto& p : *ours) got += p.name + "\t" + p.version + "\n";
  EXPECT_GT(ours->size(), 50u);
  EXPECT_EQ(got, expected);
}

// A var/lib/dpkg that is an absolute symlink resolves inside the rootfs,
// never on the host: here it names a host directory holding a database,
// which a naive open would read.
TEST(DpkgStatus, ASymlinkedDatabaseDoesNotReachTheHost) {
  auto dir = TempDir::create(fs::temp_directory_path().string(), "dpkg-link-");
  ASSERT_TRUE(dir) << dir.error().message();
  const fs::path host_db = fs::path(dir->path()) / "host-db";
  fs::create_directories(host_db);
  std::ofstream(host_db / "status") << "Package: hostonly\nStatus: install ok installed\nArchitecture: all\n"
                                       "Version: 1\n";
  ASSERT_EQ(parse_dpkg_status(kStatus)->size(), 2u);
  const fs::path root = fs::path(dir->path()) / "rootfs";
  fs::create_directories(root / "var/lib");
  fs::create_symlink(host_db, root / "var/lib/dpkg");
  auto r = installed_packages(root.string());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->empty()) << "read the host's database: " << r->front().name;
}

}  // namespace
}  // namespace hull::image
