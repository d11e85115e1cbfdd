#include <gtest/gtest.h>

#include <sched.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "policy/sandbox_layout.h"
#include "policy/seccomp_table.h"

namespace hull::policy {
namespace {

std::string golden_path(const std::string& name) {
  std::string here = __FILE__;
  return here.substr(0, here.rfind('/')) + "/golden/" + name;
}

// Compares with tests/unit/golden/<name>; HULL_UPDATE_GOLDEN=1 rewrites it.
void expect_matches_golden(const std::string& actual, const std::string& name) {
  std::string path = golden_path(name);
  if (std::getenv("HULL_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << actual;
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "missing golden file " << path
                         << " (run once with HULL_UPDATE_GOLDEN=1 and review it)";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(actual, want.str()) << "policy changed: review, then HULL_UPDATE_GOLDEN=1";
}

TEST(SeccompTable, RenderedPolicyMatchesTheReviewedGoldenFile) {
  expect_matches_golden(render_seccomp_table(), "seccomp_policy.txt");
}

TEST(SeccompTable, EveryEntryGivesAOneLineReason) {
  for (const auto& e : seccomp_table()) {
    std::string r = e.reason;
    EXPECT_GT(r.size(), 8u) << e.syscall;
    EXPECT_EQ(r.find('\n'), std::string::npos) << e.syscall;
  }
}

TEST(SeccompTable, DeniesEverySyscallTheDesignRequires) {
  std::set<std::string> denied;
  for (const auto& e : seccomp_table()) {
    if (e.arg.mask == 0 && !e.arg.not_equal) denied.insert(e.syscall);
  }
  for (const char* s :
       {"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "bpf",
        "perf_event_open", "add_key", "request_key", "keyctl", "mount", "umount2", "pivot_root",
        "move_mount", "open_tree", "fsopen", "fsmount", "fspick", "fsconfig", "mount_setattr",
        "setns", "unshare", "chroot", "open_by_handle_at", "name_to_handle_at",
        "process_vm_readv", "process_vm_writev", "kcmp", "ptrace", "reboot", "swapon",
        "swapoff", "syslog", "acct", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
        "iopl", "ioperm", "userfaultfd", "quotactl", "lookup_dcookie", "vhangup", "clone3"}) {
    EXPECT_TRUE(denied.count(s)) << s << " must be denied unconditionally";
  }
}

TEST(SeccompTable, CloneIsRefusedForEveryNamespaceFlag) {
  uint64_t want = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
                  CLONE_NEWUTS | CLONE_NEWCGROUP;
  EXPECT_EQ(seccomp_refused_clone_flags(), want);
}

TEST(SandboxLayout, ProcComesFirstAndOnlyDeviceNodesComeFromTheHost) {
  auto mounts = sandbox_mounts();
  ASSERT_FALSE(mounts.empty());
  EXPECT_EQ(mounts[0].kind, MountKind::kProc);
  for (const auto& m : mounts) {
    if (m.kind == MountKind::kHostDevice) {
      EXPECT_EQ(std::string(m.source).rfind("/dev/", 0), 0u) << m.target;
      EXPECT_EQ(std::string(m.source), std::string(m.target));
    }
  }
  expect_matches_golden(render_sandbox_mounts(), "sandbox_layout.txt");
}

}  // namespace
}  // namespace hull::policy
