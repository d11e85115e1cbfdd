#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "backend/backend.h"
#include "backend/namespace/host_ids.h"
#include "backend/namespace/record.h"
#include "backend/namespace/userns.h"
#include "base/sys.h"
#include "base/temp_dir.h"

namespace hull::backend {
namespace {

TEST(BackendNames, TiersAreNamedHonestly) {
  EXPECT_STREQ(tier_name(Tier::kNamespace), "namespace");
  EXPECT_STREQ(tier_name(Tier::kMicrovmKvm), "microvm-kvm");
  EXPECT_STREQ(tier_name(Tier::kMicrovmTcg), "microvm-tcg");
  EXPECT_STREQ(backend_name(BackendKind::kMicrovm), "microvm");
}

TEST(BackendNames, ParseAcceptsOnlyKnownBackends) {
  EXPECT_EQ(*parse_backend("namespace"), BackendKind::kNamespace);
  EXPECT_EQ(*parse_backend("microvm"), BackendKind::kMicrovm);
  auto bad = parse_backend("docker");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("docker"), std::string::npos);
}

TEST(BackendNames, EveryKindHasABackend) {
  EXPECT_TRUE(make_backend(BackendKind::kMicrovm).ok());
  EXPECT_TRUE(make_backend(BackendKind::kNamespace).ok());
}

TEST(HostIdLease, RangesAreAboveEveryHostAccountAndBelow2To31) {
  EXPECT_GE(ns::kHostIdBase, 1u << 30);
  EXPECT_LE(uint64_t{ns::kHostIdBase} + uint64_t{ns::kIdsPerSlot} * ns::kHostIdSlots, uint64_t{1} << 31);
}

// Leases are exclusive while held and come back once released; a held
// slot is never handed out twice, whatever the names of the sandboxes.
TEST(HostIdLease, AHeldRangeIsNeverLeasedTwiceAndAReleasedOneComesBack) {
  if (::geteuid() != 0) GTEST_SKIP() << "leases live in a root-only directory";
  auto dir = TempDir::create("/tmp", "hull-ids-");
  ASSERT_TRUE(dir.ok());
  ASSERT_EQ(::chmod(dir->path().c_str(), 0700), 0);
  std::vector<ns::HostIdLease> held;
  std::set<uint32_t> bases;
  for (int i = 0; i < 64; ++i) {
    auto l = ns::HostIdLease::take(dir->path());
    ASSERT_TRUE(l.ok()) << l.error().message();
    EXPECT_GE(l->base(), ns::kHostIdBase);
    EXPECT_EQ(l->base() % ns::kIdsPerSlot, 0u);
    EXPECT_TRUE(bases.insert(l->base()).second) << "base " << l->base() << " leased twice";
    held.push_back(std::move(*l));
  }
  // The slot's lock is what a later take() tries: free once released.
  auto lockable = [&](uint32_t slot) {
    int fd = ::open((dir->path() + "/" + std::to_string(slot)).c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    ::close(fd);
    return ok;
  };
  const uint32_t freed = held.front().slot();
  EXPECT_FALSE(lockable(freed));
  held.erase(held.begin());
  EXPECT_TRUE(lockable(freed));
  EXPECT_FALSE(lockable(held.front().slot()));
}

TEST(HostIdLease, ADirectoryOthersCanWriteIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "leases live in a root-only directory";
  auto dir = TempDir::create("/tmp", "hull-ids-");
  ASSERT_TRUE(dir.ok());
  ASSERT_EQ(::chmod(dir->path().c_str(), 0777), 0);
  auto l = ns::HostIdLease::take(dir->path());
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().message().find("writable by root only"), std::string::npos) << l.error().message();
}

TEST(BackendRecord, RoundTripsAndReapingANonexistentRecordIsFine) {
  auto dir = TempDir::create("/tmp", "hull-rec-");
  ASSERT_TRUE(dir.ok());
  EXPECT_TRUE(reap_leftovers(dir->path()).ok());
  ns::BackendRecord r{"namespace", 4242, 99, {"/sys/fs/cgroup/pids/none-such"}, dir->path() + "/ns-scratch"};
  ASSERT_TRUE(ns::write_record(dir->path(), r).ok());
  auto back = ns::read_record(dir->path());
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ((*back)->host_pid, 4242);
  EXPECT_EQ((*back)->start_time, 99u);
  EXPECT_EQ((*back)->cgroups, r.cgroups);
  EXPECT_EQ((*back)->scratch, r.scratch);
  // start_time 99 does not match any live pid 4242: nothing is killed.
  EXPECT_TRUE(reap_leftovers(dir->path()).ok());
  EXPECT_FALSE(sys::exists(dir->path() + "/backend.json"));
}

TEST(BackendRecord, StartTimeIdentifiesALiveProcess) {
  EXPECT_GT(ns::process_start_time(::getpid()), 0u);
  EXPECT_EQ(ns::process_start_time(0), 0u);
}

TEST(NamespaceProbe, ReportsEveryCapabilityWithADetail) {
  auto probes = probe_namespace_backend();
  std::set<std::string> names;
  for (const auto& p : probes) {
    names.insert(p.name);
    EXPECT_FALSE(p.detail.empty()) << p.name;
  }
  for (const char* n : {"userns", "idmapped-mounts", "overlay-in-userns", "cgroup-memory",
                        "cgroup-pids", "cgroup-cpu", "landlock", "seccomp", "pidfd"})
    EXPECT_TRUE(names.count(n)) << n;
}

}  // namespace
}  // namespace hull::backend
