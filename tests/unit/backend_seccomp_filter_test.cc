// The compiled seccomp policy, installed for real in a forked child (no root
// needed: no_new_privs suffices). The child reports each result through a
// pipe as "name=ERRNO" lines.
#include "backend/namespace/seccomp_filter.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/personality.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
#include <string>

#include "base/sys.h"
#include "base/temp_dir.h"

namespace hull::backend::ns {
namespace {

const char* scratch_path = nullptr;  // an existing file the child may chmod
const char* scratch_new = nullptr;   // a name the child may create

std::map<std::string, std::string> run_under_policy(const SeccompProgram& prog) {
  auto scratch = TempDir::create("/tmp", "hull-seccomp-");
  EXPECT_TRUE(scratch.ok());
  const std::string file = scratch->path() + "/f", fresh = scratch->path() + "/new";
  EXPECT_TRUE(sys::write_file_atomic(file, "x").ok());
  scratch_path = file.c_str();
  scratch_new = fresh.c_str();
  auto p = sys::pipe(0);
  EXPECT_TRUE(p.ok());
  pid_t pid = ::fork();
  if (pid == 0) {
    int out = p->second.get();
    auto report = [&](const char* name, long rc) {
      dprintf(out, "%s=%s\n", name, rc < 0 ? strerrorname_np(errno) : "ok");
    };
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) ::_exit(10);
    int e = install_seccomp_program(prog);
    if (e != 0) {
      dprintf(out, "install=%s\n", strerrorname_np(e));
      ::_exit(11);
    }
    report("getpid", ::syscall(SYS_getpid));
    report("keyctl", ::syscall(SYS_keyctl, 0, -3, 0));
    report("unshare", ::unshare(CLONE_NEWUSER));
    report("unshare_files", ::unshare(CLONE_FILES));
    report("clone3", ::syscall(SYS_clone3, nullptr, 0));
    report("clone_newns", ::syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0));
    report("personality_linux", ::personality(PER_LINUX));
    report("personality_32", ::personality(PER_LINUX32));
    report("bpf", ::syscall(SYS_bpf, 0, nullptr, 0));
    report("pidfd_getfd", ::syscall(SYS_pidfd_getfd, -1, 0, 0));
    report("modify_ldt", ::syscall(SYS_modify_ldt, 0, nullptr, 0));
    report("move_pages", ::syscall(SYS_move_pages, 0, 0, nullptr, nullptr, nullptr, 0));
    report("socket_vsock", ::socket(AF_VSOCK, SOCK_STREAM, 0));
    report("socket_unix", ::socket(AF_UNIX, SOCK_STREAM, 0));
    // Set-id modes, on a scratch file the parent made (scratch_path).
    report("chmod_plain", ::chmod(scratch_path, 0755));
    report("chmod_setuid", ::chmod(scratch_path, 04755));
    report("chmod_setgid", ::chmod(scratch_path, 02755));
    report("fchmodat_setuid", ::fchmodat(AT_FDCWD, scratch_path, 04755, 0));
    int sfd = ::open(scratch_path, O_RDONLY);
    report("fchmod_setuid", ::fchmod(sfd, 04755));
    report("open_create_setuid", ::open(scratch_new, O_CREAT | O_WRONLY, 04755));
    report("mknod_setuid", ::mknod(scratch_new, S_IFREG | 04755, 0));
    report("openat2", ::syscall(SYS_openat2, AT_FDCWD, scratch_path, nullptr, 0));
    // The path is looked up before the capability is checked: ENOENT means
    // seccomp let it through.
    report("chroot_missing", ::chroot("/hull-no-such-dir"));
    pid_t c = ::fork();  // plain fork is still allowed
    if (c == 0) ::_exit(0);
    report("fork", c);
    if (c > 0) ::waitpid(c, nullptr, 0);
    ::_exit(0);
  }
  p->second.reset();
  std::string text;
  char buf[512];
  for (ssize_t n; (n = ::read(p->first.get(), buf, sizeof buf)) > 0;) text.append(buf, n);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << text;
  std::map<std::string, std::string> m;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    m[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return m;
}

TEST(SeccompFilter, PolicyCompilesToABoundedProgram) {
  auto prog = compile_seccomp_policy();
  ASSERT_TRUE(prog.ok()) << prog.error().message();
  EXPECT_GT(prog->rules, 40u);
  EXPECT_GT(prog->insns.size(), prog->rules);
  EXPECT_LT(prog->insns.size(), 1000u);
}

TEST(SeccompFilter, DeniedSyscallsFailWithEpermAndOrdinaryOnesStillWork) {
  auto prog = compile_seccomp_policy();
  ASSERT_TRUE(prog.ok()) << prog.error().message();
  auto r = run_under_policy(*prog);
  EXPECT_EQ(r["getpid"], "ok");
  EXPECT_EQ(r["keyctl"], "EPERM");
  EXPECT_EQ(r["unshare"], "EPERM");
  EXPECT_EQ(r["unshare_files"], "EPERM");
  EXPECT_EQ(r["clone3"], "ENOSYS") << "so that libc falls back to clone";
  EXPECT_EQ(r["clone_newns"], "EPERM");
  EXPECT_EQ(r["personality_linux"], "ok");
  EXPECT_EQ(r["personality_32"], "EPERM");
  EXPECT_EQ(r["bpf"], "EPERM");
  EXPECT_EQ(r["fork"], "ok");
  EXPECT_EQ(r["pidfd_getfd"], "EPERM");
  EXPECT_EQ(r["modify_ldt"], "EPERM");
  EXPECT_EQ(r["move_pages"], "EPERM");
  EXPECT_EQ(r["socket_vsock"], "EAFNOSUPPORT");
  EXPECT_EQ(r["socket_unix"], "ok");
}

// No setuid/setgid file can be made, however it is asked for; plain modes
// still work. The same rows are all of QEMU's extra program.
void expect_setid_refused(std::map<std::string, std::string> r) {
  EXPECT_EQ(r["chmod_plain"], "ok");
  EXPECT_EQ(r["chmod_setuid"], "EPERM");
  EXPECT_EQ(r["chmod_setgid"], "EPERM");
  EXPECT_EQ(r["fchmodat_setuid"], "EPERM");
  EXPECT_EQ(r["fchmod_setuid"], "EPERM");
  EXPECT_EQ(r["open_create_setuid"], "EPERM");
  EXPECT_EQ(r["mknod_setuid"], "EPERM");
  EXPECT_EQ(r["openat2"], "ENOSYS") << "so that callers fall back to openat";
}

TEST(SeccompFilter, TheSandboxCannotMakeASetIdFile) {
  auto prog = compile_seccomp_policy();
  ASSERT_TRUE(prog.ok()) << prog.error().message();
  expect_setid_refused(run_under_policy(*prog));
}

TEST(SeccompFilter, ThePackageInstallProfileLetsChrootAndSetIdModesThroughAndNothingElse) {
  auto prog = compile_package_install_policy();
  ASSERT_TRUE(prog.ok()) << prog.error().message();
  auto r = run_under_policy(*prog);
  EXPECT_EQ(r["chroot_missing"], "ENOENT");
  EXPECT_EQ(r["chmod_setuid"], "ok");
  EXPECT_EQ(r["keyctl"], "EPERM");
  EXPECT_EQ(r["unshare"], "EPERM");
  EXPECT_EQ(r["bpf"], "EPERM");
  auto strict = compile_seccomp_policy();
  ASSERT_TRUE(strict.ok());
  EXPECT_EQ(run_under_policy(*strict)["chroot_missing"], "EPERM");
}

TEST(SeccompFilter, QemusProgramRefusesSetIdModesAndNothingElse) {
  auto prog = compile_setid_policy();
  ASSERT_TRUE(prog.ok()) << prog.error().message();
  auto r = run_under_policy(*prog);
  expect_setid_refused(r);
  EXPECT_EQ(r["keyctl"], "ok") << "QEMU's own -sandbox decides the rest";
  EXPECT_EQ(r["fork"], "ok");
}

#if defined(__x86_64__)
TEST(SeccompFilter, X32SyscallsKillTheProcess) {
  auto prog = compile_seccomp_policy();
  ASSERT_TRUE(prog.ok()) << prog.error().message();
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || install_seccomp_program(*prog) != 0)
      ::_exit(10);
    ::syscall(0x40000000 | SYS_getpid);  // x32 ABI number
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGSYS);
}
#endif

}  // namespace
}  // namespace hull::backend::ns
