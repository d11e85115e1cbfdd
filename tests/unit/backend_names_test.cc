#include <gtest/gtest.h>
#include <unistd.h>

#include <set>

#include "backend/backend.h"
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

TEST(IdMapping, SandboxRootIsNeverHostRootAndRangesStayBelow2To31) {
  for (const char* name : {"a", "demo", "x-1", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"}) {
    auto m = ns::id_mapping_for(name);
    EXPECT_GE(m.host_base, 1u << 30) << name;
    EXPECT_LE(uint64_t{m.host_base} + m.count, uint64_t{1} << 31) << name;
    EXPECT_EQ(m.count, 65536u);
    EXPECT_EQ(m.host_base % 65536, 0u);
  }
  EXPECT_EQ(ns::id_mapping_for("demo").host_base, ns::id_mapping_for("demo").host_base);
  EXPECT_NE(ns::id_mapping_for("demo").host_base, ns::id_mapping_for("demo2").host_base);
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
