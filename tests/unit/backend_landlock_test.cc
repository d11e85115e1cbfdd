// The namespace sandbox's Landlock rules (landlock.h): a directory fd that
// leaked from outside the new root is useless, and writes go only where the
// sandbox may write. Runs children that chroot (in their own user+mount
// namespace) into a small tree.
#include "backend/namespace/landlock.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "backend/namespace/child_setup.h"
#include "base/sys.h"
#include "base/temp_dir.h"

namespace hull::backend::ns {
namespace {

// 0: openat through the leaked fd worked; errno otherwise; 100+: set-up failed.
int open_through_leaked_fd(const std::string& inside, const std::string& outside, bool landlock) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int leaked = ::open(outside.c_str(), O_RDONLY | O_DIRECTORY);
    if (leaked < 0) ::_exit(100);
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) ::_exit(101);
    if (::chroot(inside.c_str()) < 0 || ::chdir("/") < 0) ::_exit(102);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) ::_exit(103);
    if (landlock && landlock_restrict(landlock_abi()) != 0) ::_exit(104);
    int inner = ::open("/inner", O_RDONLY);
    if (inner < 0) ::_exit(105);  // the new root itself stays usable
    int fd = ::openat(leaked, "secret", O_RDONLY);
    ::_exit(fd >= 0 ? 0 : errno);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

TEST(Landlock, LeakedHostDirectoryFdIsUselessBeneathTheNewRoot) {
  if (landlock_abi() == 0) GTEST_SKIP() << "kernel has no landlock";
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for chroot in a user namespace";
  auto dir = TempDir::create("/tmp", "hull-landlock-");
  ASSERT_TRUE(dir.ok());
  std::string inside = dir->path() + "/inside", outside = dir->path() + "/outside";
  ASSERT_TRUE(sys::mkdir_p(inside).ok());
  ASSERT_TRUE(sys::mkdir_p(outside).ok());
  ASSERT_TRUE(sys::write_file_atomic(inside + "/inner", "in\n").ok());
  ASSERT_TRUE(sys::write_file_atomic(outside + "/secret", "host\n").ok());
  EXPECT_EQ(open_through_leaked_fd(inside, outside, false), 0) << "control: the leak is real";
  EXPECT_EQ(open_through_leaked_fd(inside, outside, true), EACCES);
}

// Creates `path` under the ruleset inside `root`: 0 or the errno.
int create_under_landlock(const std::string& root, const std::string& path, bool dir) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) ::_exit(101);
    if (::chroot(root.c_str()) < 0 || ::chdir("/") < 0) ::_exit(102);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) ::_exit(103);
    if (landlock_restrict(landlock_abi()) != 0) ::_exit(104);
    if (dir) ::_exit(::mkdir(path.c_str(), 0755) == 0 ? 0 : errno);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    ::_exit(fd >= 0 ? 0 : errno);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

TEST(Landlock, WritesGoBeneathTheRootsDirectoriesButNotProcDevOrTheRootItself) {
  if (landlock_abi() == 0) GTEST_SKIP() << "kernel has no landlock";
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for chroot in a user namespace";
  auto dir = TempDir::create("/tmp", "hull-landlock-");
  ASSERT_TRUE(dir.ok());
  const std::string root = dir->path();
  for (const char* d : {"/etc", "/tmp", "/proc", "/dev", "/dev/shm", "/.hull"}) ASSERT_TRUE(sys::mkdir_p(root + d).ok());
  EXPECT_EQ(create_under_landlock(root, "/etc/ok", false), 0);
  EXPECT_EQ(create_under_landlock(root, "/tmp/ok", true), 0);
  EXPECT_EQ(create_under_landlock(root, "/dev/shm/ok", false), 0);
  EXPECT_EQ(create_under_landlock(root, "/proc/no", false), EACCES);
  EXPECT_EQ(create_under_landlock(root, "/dev/no", false), EACCES);
  EXPECT_EQ(create_under_landlock(root, "/.hull/no", false), EACCES);
  EXPECT_EQ(create_under_landlock(root, "/new-top-level", true), EACCES);
}

}  // namespace
}  // namespace hull::backend::ns
