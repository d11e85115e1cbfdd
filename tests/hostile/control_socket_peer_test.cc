// Another local user must not be able to pose as a sandbox's supervisor:
// the CLI talks only to a control socket in a directory no one else can
// change, and only to a peer running as the same user (SO_PEERCRED), before
// it sends a single byte (a `cp` upload or `exec -i` stdin would follow).
// Backend-independent: the runtime directory and the socket are host-side.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "../integration/cli_harness.h"

namespace hull::testing {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kVictim = 54321;
constexpr uid_t kIntruder = 54322;

void become(uid_t uid) {
  ::setgroups(0, nullptr);
  if (::setresgid(uid, uid, uid) < 0 || ::setresuid(uid, uid, uid) < 0) _exit(126);
}

// Runs `hull args...` as `uid` with exactly `env`; returns exit code and stderr.
HullResult run_hull_as(uid_t uid, std::vector<std::string> env, const std::vector<std::string>& args) {
  std::vector<std::string> argv_s{HULL_BIN};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv, envp;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(p[1], 1);
    ::dup2(p[1], 2);
    if (::chdir("/") < 0) _exit(126);
    become(uid);
    ::execve(HULL_BIN, argv.data(), envp.data());
    _exit(127);
  }
  ::close(p[1]);
  HullResult r;
  char buf[4096];
  for (;;) {
    pollfd pf{p[0], POLLIN, 0};
    if (::poll(&pf, 1, 60000) <= 0) {
      ::kill(pid, SIGKILL);
      break;
    }
    ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n <= 0) break;
    r.err.append(buf, static_cast<size_t>(n));
  }
  ::close(p[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A victim user without XDG_RUNTIME_DIR or HULL_HOME falls back to
// /tmp/hull-<uid>/hull. Another user who made /tmp/hull-<uid> first could
// serve a fake control socket there: hull refuses it and says what to do.
// (`--workspace /nonexistent` makes a run that got past the check fail at
// once, without needing an image.)
TEST(HostileRuntimeDir, AnotherUsersRuntimeDirInTmpIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as two other users";
  const std::string fallback = "/tmp/hull-" + std::to_string(kVictim);
  const std::string victim_home = "/tmp/hull-victim-home-" + std::to_string(::getpid());
  fs::remove_all(fallback);
  fs::create_directories(victim_home);
  ASSERT_EQ(::chown(victim_home.c_str(), kVictim, kVictim), 0);
  std::vector<std::string> env{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + victim_home,
                               "HULL_BACKEND=namespace"};
  const std::vector<std::string> args{"run", "--rm", "--workspace", "/nonexistent", "--", "true"};

  // The intruder's directory, open to the victim so that a supervisor could
  // bind its socket in it.
  ASSERT_TRUE(fs::create_directory(fallback));
  ASSERT_EQ(::chown(fallback.c_str(), kIntruder, kIntruder), 0);
  ASSERT_EQ(::chmod(fallback.c_str(), 0777), 0);
  auto r = run_hull_as(kVictim, env, args);
  EXPECT_EQ(r.exit_code, 125) << r.err;
  EXPECT_NE(r.err.find(fallback + " is owned by uid " + std::to_string(kIntruder)), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("XDG_RUNTIME_DIR"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(fallback + "/hull")) << "hull created its runtime dir inside the intruder's";

  // The victim's own, but writable by everyone: refused too.
  ASSERT_EQ(::chown(fallback.c_str(), kVictim, kVictim), 0);
  r = run_hull_as(kVictim, env, args);
  EXPECT_EQ(r.exit_code, 125) << r.err;
  EXPECT_NE(r.err.find("writable by others"), std::string::npos) << r.err;

  // The victim's own and private: accepted. hull makes its runtime dir in
  // it (0700) and gets past the check to the next error of this run.
  ASSERT_EQ(::chmod(fallback.c_str(), 0700), 0);
  r = run_hull_as(kVictim, env, args);
  EXPECT_EQ(r.exit_code, 125) << r.err;
  EXPECT_NE(r.err.find("workspace /nonexistent"), std::string::npos) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat((fallback + "/hull").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kVictim);
  EXPECT_EQ(st.st_mode & 07777, 0700u);

  fs::remove_all(fallback);
  fs::remove_all(victim_home);
}

using HostileControlSocket = CliTest;

// A fake "supervisor" at a running sandbox's socket path, run by another
// uid: the CLI must refuse it before it sends anything. The fake server
// (a child that binds the socket, becomes kIntruder, listens) reports how
// many bytes it received.
TEST_F(HostileControlSocket, CliRefusesAControlSocketServedByAnotherUserBeforeSendingAByte) {
  HULL_REQUIRE_IMAGE();
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to serve a socket as another user";
  auto r = run_hull({"run", "-d", "--name", "p", "--", "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string sock = inspect_json("p")["state"].value("socket", "");
  ASSERT_FALSE(sock.empty());
  ASSERT_LT(sock.size(), sizeof(sockaddr_un::sun_path));
  ASSERT_EQ(::unlink(sock.c_str()), 0);

  int ready[2], report[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, sock.c_str(), sock.size() + 1);
    if (::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) _exit(1);
    become(kIntruder);  // SO_PEERCRED reports who called listen()
    if (::listen(s, 1) < 0) _exit(1);
    (void)!::write(ready[1], "r", 1);
    pollfd pa{s, POLLIN, 0};
    if (::poll(&pa, 1, 60000) <= 0) _exit(1);
    int c = ::accept(s, nullptr, nullptr);
    // Until the first bytes or the CLI's close, whichever comes first.
    char buf[4096];
    pollfd pc{c, POLLIN, 0};
    ssize_t n = ::poll(&pc, 1, 60000) > 0 ? ::read(c, buf, sizeof buf) : -1;
    std::string got = std::to_string(n);
    (void)!::write(report[1], got.data(), got.size());
    _exit(0);
  }
  ::close(ready[1]);
  ::close(report[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1) << "the fake server did not start";

  const std::string secret = home_ + "/upload";
  std::ofstream(secret) << "secret-upload\n";
  auto cp = run_hull({"cp", secret, "p:/tmp/upload"});
  EXPECT_EQ(cp.exit_code, 125) << cp.err;
  EXPECT_NE(cp.err.find("uid " + std::to_string(kIntruder)), std::string::npos) << cp.err;
  EXPECT_NE(cp.err.find(sock), std::string::npos) << cp.err;

  char got[32] = {};
  ssize_t n = ::read(report[0], got, sizeof got - 1);
  ::waitpid(pid, nullptr, 0);
  ::close(ready[0]);
  ::close(report[0]);
  ASSERT_GT(n, 0) << "the fake server reported nothing";
  EXPECT_EQ(std::string(got), "0") << "the CLI sent bytes to a socket served by uid " << kIntruder;
}

// The CLI side of the runtime-dir rule: a socket in a directory others may
// write could have been swapped, so the CLI does not connect to it.
TEST_F(HostileControlSocket, CliRefusesAControlSocketInADirectoryOthersCanWrite) {
  HULL_REQUIRE_IMAGE();
  auto r = run_hull({"run", "-d", "--name", "g", "--", "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string run_dir = fs::path(inspect_json("g")["state"].value("socket", "")).parent_path().string();
  ASSERT_FALSE(run_dir.empty());
  ASSERT_EQ(::chmod(run_dir.c_str(), 0773), 0);
  auto e = run_hull({"exec", "g", "--", "true"});
  ::chmod(run_dir.c_str(), 0700);
  EXPECT_EQ(e.exit_code, 125) << e.err;
  EXPECT_NE(e.err.find(run_dir + " is writable by others (mode 0773)"), std::string::npos) << e.err;
}

}  // namespace
}  // namespace hull::testing
