// The Debian builder's parsers: apt's simulated plan, package name/version
// checks, hull.lock round trip and rejection of edited or hostile locks.
#include <gtest/gtest.h>

#include "image/debian_packages.h"
#include "image/lockfile.h"

namespace hull::image {
namespace {

constexpr const char* kPlan =
    "I: running apt-get update...\n"
    "Inst gcc-12-base (12.2.0-14+deb12u1 Debian:12.15/oldstable [amd64])\n"
    "Conf gcc-12-base (12.2.0-14+deb12u1 Debian:12.15/oldstable [amd64])\n"
    "Inst libc6 (2.36-9+deb12u14 Debian:12.15/oldstable [amd64]) []\n"
    "Inst libcap2 (1:2.66-4+deb12u3+b1 Debian:12.15/oldstable [amd64])\n"
    "Inst adduser (3.134 Debian:12.15/oldstable [all])\n"
    "Inst libc6 (2.36-9+deb12u14 Debian:12.15/oldstable [amd64])\n";  // the second phase repeats it

TEST(DebianPlan, ParsesInstLinesSortedAndDeduplicated) {
  auto r = parse_apt_simulation(kPlan);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0], (DebPackage{"adduser", "3.134", "all", "", 0}));
  EXPECT_EQ((*r)[1].name, "gcc-12-base");
  EXPECT_EQ((*r)[3], (DebPackage{"libcap2", "1:2.66-4+deb12u3+b1", "amd64", "", 0}));
  EXPECT_EQ(pinned((*r)[3]), "libcap2=1:2.66-4+deb12u3+b1");
}

TEST(DebianPlan, RejectsTwoVersionsOfOnePackage) {
  auto r = parse_apt_simulation("Inst a1 (1.0 x [amd64])\nInst a1 (2.0 x [amd64])\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("two versions"), std::string::npos) << r.error().message();
}

TEST(DebianPlan, RejectsMalformedOrHostileFields) {
  for (const char* line : {"Inst bash\n", "Inst bash 5.2\n", "Inst bash (5.2 Debian)\n",
                           "Inst ../../etc (1.0 x [amd64])\n", "Inst bash ($(reboot) x [amd64])\n",
                           "Inst bash (1.0 x [am d64])\n", "Inst Bash (1.0 x [amd64])\n",
                           "Inst bash (1.0;rm x [amd64])\n"}) {
    EXPECT_FALSE(parse_apt_simulation(line)) << line;
  }
}

TEST(DebianNames, FollowPolicyCharacterSets) {
  EXPECT_TRUE(valid_package_name("libstdc++6"));
  EXPECT_TRUE(valid_package_name("g++-12"));
  EXPECT_FALSE(valid_package_name("a"));
  EXPECT_FALSE(valid_package_name("-rf"));
  EXPECT_FALSE(valid_package_name("a/b"));
  EXPECT_FALSE(valid_package_name(std::string(300, 'a')));
  EXPECT_TRUE(valid_package_version("1:2.66-4+deb12u3~bpo1"));
  EXPECT_FALSE(valid_package_version("v1"));
  EXPECT_FALSE(valid_package_version("1.0 2"));
  EXPECT_FALSE(valid_package_version("1/../2"));
  EXPECT_TRUE(valid_architecture("amd64"));
  EXPECT_FALSE(valid_architecture("amd64]"));
}

DebianLock sample_lock() {
  DebianLock l;
  l.spec_digest = std::string(64, 'a');
  l.suite = "bookworm";
  l.requested = {"hello"};
  l.sources = {"deb http://deb.debian.org/debian bookworm main"};
  l.releases = {{"deb.debian.org_debian_dists_bookworm", "Sat, 11 Jul 2026 10:16:37 UTC"}};
  l.source_date_epoch = 1783764997;
  l.packages = {{"adduser", "3.134", "all", std::string(64, 'b'), 183272},
                {"hello", "2.10-3", "amd64", std::string(64, 'c'), 56000}};
  return l;
}

TEST(HullLock, RoundTripsAndPutsOnePackagePerLine) {
  const DebianLock l = sample_lock();
  const std::string text = lock_to_text(l);
  auto back = lock_from_text(text, "hull.lock");
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, l);
  EXPECT_EQ(lock_to_text(*back), text);  // stable bytes: a rebuild does not churn the file
  EXPECT_NE(text.find("\n    {\"arch\":\"amd64\",\"name\":\"hello\""), std::string::npos) << text;
}

TEST(HullLock, RejectsEditedOrHostileContent) {
  auto mutate = [](auto&& edit) {
    DebianLock l = sample_lock();
    edit(l);
    return lock_from_text(lock_to_text(l), "hull.lock");
  };
  EXPECT_FALSE(mutate([](DebianLock& l) { l.packages[1].sha256 = "abc"; }));
  EXPECT_FALSE(mutate([](DebianLock& l) { l.packages[1].name = "../x"; }));
  EXPECT_FALSE(mutate([](DebianLock& l) { l.packages[1].version = "1.0 --force"; }));
  EXPECT_FALSE(mutate([](DebianLock& l) { std::swap(l.packages[0], l.packages[1]); }));  // unsorted
  EXPECT_FALSE(mutate([](DebianLock& l) { l.packages.push_back(l.packages[1]); }));      // repeated
  EXPECT_FALSE(mutate([](DebianLock& l) { l.sources = {"deb http://x bookworm main\n-o Dir=/"}; }));
  EXPECT_FALSE(mutate([](DebianLock& l) { l.sources = {"rm -rf /"}; }));
  EXPECT_FALSE(mutate([](DebianLock& l) { l.packages.clear(); }));
  EXPECT_FALSE(lock_from_text("{", "hull.lock"));
  EXPECT_FALSE(lock_from_text("[]", "hull.lock"));
  EXPECT_FALSE(lock_from_text(R"({"lock_version": 2, "builder": "debian"})", "hull.lock"));
}

TEST(HullLock, ReleaseDatesParseAsUtc) {
  auto t = parse_release_date("Sat, 11 Jul 2026 10:16:37 UTC");
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(*t, 1783764997);
  EXPECT_FALSE(parse_release_date("yesterday"));
  EXPECT_FALSE(parse_release_date("Sat, 11 Jul 2026 10:16:37 +0200"));
}

}  // namespace
}  // namespace hull::image
