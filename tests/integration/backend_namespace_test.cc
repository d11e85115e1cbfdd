// The namespace backend booting real sandboxes with fake agents from
// tests/bin (ns_probe reports facts; ns_hog misbehaves). Needs root and a
// Debian rootfs: HULL_TEST_ROOTFS, else /tmp/mmtest/rootfs.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "backend/backend.h"
#include "base/sys.h"
#include "base/temp_dir.h"

namespace hull::backend {
namespace {

std::string test_rootfs() {
  const char* env = std::getenv("HULL_TEST_ROOTFS");
  std::string p = env != nullptr ? env : "/tmp/mmtest/rootfs";
  return sys::exists(p + "/etc/passwd") ? p : std::string();
}

#define REQUIRE_SANDBOX_HOST()                                                          \
  do {                                                                                  \
    if (::geteuid() != 0) GTEST_SKIP() << "namespace backend needs root";              \
    if (test_rootfs().empty())                                                          \
      GTEST_SKIP() << "no test rootfs: set HULL_TEST_ROOTFS or build /tmp/mmtest/rootfs"; \
  } while (0)

std::string bin(const std::string& name) { return std::string(HULL_TEST_BIN_DIR) + "/" + name; }

struct Sandbox {
  TempDir state;
  TempDir workspace;
  BootSpec spec;
};

Sandbox make_sandbox(const std::string& name, const std::string& agent) {
  auto state = TempDir::create("/tmp", "hull-ns-state-");
  auto ws = TempDir::create("/tmp", "hull-ns-ws-");
  EXPECT_TRUE(state.ok() && ws.ok());
  Sandbox s{std::move(state).value(), std::move(ws).value(), {}};
  s.spec.name = name;
  s.spec.rootfs = test_rootfs();
  s.spec.workspace = s.workspace.path();
  s.spec.state_dir = s.state.path();
  s.spec.agent_path = bin(agent);
  return s;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::map<std::string, std::string> parse_facts(const std::string& text) {
  std::map<std::string, std::string> m;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) m[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return m;
}

// A TCP listener on host 127.0.0.1 that the sandbox must not reach.
struct HostListener {
  int fd = -1;
  int port = 0;
  HostListener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd, 4) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
  }
  ~HostListener() { ::close(fd); }
};

std::map<std::string, std::string> boot_probe(Sandbox& s, std::unique_ptr<Instance>* keep) {
  auto be = make_backend(BackendKind::kNamespace);
  EXPECT_TRUE(be.ok());
  auto booted = (*be)->boot(s.spec);
  EXPECT_TRUE(booted.ok()) << (booted.ok() ? "" : booted.error().message());
  if (!booted) return {};
  HostListener host;
  std::string req = "port=" + std::to_string(host.port) + "\n";
  EXPECT_TRUE(sys::write_all(booted->channel.get(), req).ok());
  std::string text = read_all(booted->channel.get());
  if (std::getenv("HULL_TEST_VERBOSE") != nullptr) std::fprintf(stderr, "%s", text.c_str());
  auto facts = parse_facts(text);
  EXPECT_EQ(facts.count("end"), 0u);  // "end" is a bare line, not key=value
  *keep = std::move(booted->instance);
  return facts;
}

std::vector<std::string> recorded_cgroups(const std::string& state_dir) {
  auto text = sys::read_file(state_dir + "/backend.json");
  if (!text) return {};
  return nlohmann::json::parse(*text)["cgroups"].get<std::vector<std::string>>();
}

TEST(NamespaceBackend, AgentIsPid1AsSandboxRootAndSeesNothingOfTheHost) {
  REQUIRE_SANDBOX_HOST();
  Sandbox s = make_sandbox("probe-view", "ns_probe");
  std::unique_ptr<Instance> inst;
  auto f = boot_probe(s, &inst);
  ASSERT_TRUE(inst);
  EXPECT_EQ(f["argv"], "--channel-fd 3");
  EXPECT_EQ(f["pid"], "1");
  EXPECT_EQ(f["uid"], "0,0");
  EXPECT_EQ(f["hostname"], "probe-view");
  EXPECT_EQ(f["etc_hostname"], "probe-view");
  EXPECT_EQ(f["procs"], "1") << "only the agent itself in /proc";
  EXPECT_EQ(f["oldroot"], "ENOENT");
  for (const char* m : {"kcore", "sysrq-trigger", "timer_list", "keys"}) {
    std::string host_has = sys::exists(std::string("/proc/") + m) ? "masked" : "ENOENT";
    EXPECT_EQ(f[std::string("proc_") + m], host_has) << m;
  }
  EXPECT_EQ(f["etc_passwd_owner"], "0") << "idmapped image: host root shows as sandbox root";
  EXPECT_EQ(f["cwd"], "/workspace");
  EXPECT_EQ(f["fd0"], "/dev/null");
  std::set<std::string> dev;
  std::stringstream ds(f["dev"]);
  for (std::string e; std::getline(ds, e, ',');) dev.insert(e);
  EXPECT_EQ(dev, (std::set<std::string>{"null", "zero", "full", "random", "urandom", "tty", "pts",
                                        "ptmx", "shm", "fd", "stdin", "stdout", "stderr"}));
  EXPECT_NE(f["root"].find(".hull"), std::string::npos);
  EXPECT_NE(f["root"].find("workspace"), std::string::npos);
  EXPECT_EQ(f["write_agent"], "EROFS");
  struct stat st {};
  EXPECT_NE(::lstat((s.spec.rootfs + "/.hull").c_str(), &st), 0) << "image must not be modified";
  EXPECT_NE(::pid_t(inst->host_pid()), ::getpid());
}

TEST(NamespaceBackend, NetworkHasOnlyLoopbackAndCannotReachHostListeners) {
  REQUIRE_SANDBOX_HOST();
  Sandbox s = make_sandbox("probe-net", "ns_probe");
  std::unique_ptr<Instance> inst;
  auto f = boot_probe(s, &inst);
  EXPECT_EQ(f["loopback"], "ok");
  EXPECT_NE(f["connect_host"], "ok");
  EXPECT_NE(f["connect_host"], "no-port");
}

// The agent keeps CAP_SETUID, CAP_SETGID and CAP_SETPCAP (bits 6-8: 0x1c0)
// to start commands as the image's user; commands drop them (CliRun.User*).
TEST(NamespaceBackend, AgentRunsWithOnlyTheIdentityCapabilitiesUnderSeccompAndNoNewPrivs) {
  REQUIRE_SANDBOX_HOST();
  Sandbox s = make_sandbox("probe-hard", "ns_probe");
  std::unique_ptr<Instance> inst;
  auto f = boot_probe(s, &inst);
  for (const char* k : {"CapInh", "CapAmb"}) EXPECT_EQ(f[k], "0000000000000000") << k;
  for (const char* k : {"CapPrm", "CapEff", "CapBnd"}) EXPECT_EQ(f[k], "00000000000001c0") << k;
  EXPECT_EQ(f["NoNewPrivs"], "1");
  EXPECT_EQ(f["Seccomp"], "2");
  EXPECT_EQ(f["keyctl"], "EPERM");
  EXPECT_EQ(f["unshare"], "EPERM");
  EXPECT_EQ(f["mount"], "EPERM");
  EXPECT_EQ(f["ptrace"], "EPERM");
  EXPECT_EQ(f["clone3"], "ENOSYS");
  EXPECT_EQ(f["personality"], "EPERM");
  EXPECT_EQ(f["getpid"], "ok");
  EXPECT_EQ(f["thread"], "ok") << "pthread_create must fall back from clone3 to clone";
  EXPECT_EQ(f["rlimit_core"], "0");
  EXPECT_NE(f["write_proc_sys"], "ok");
  EXPECT_EQ(f["open_root"], "ok");
  auto rep = inst->report();
  std::map<std::string, std::string> r(rep.begin(), rep.end());
  EXPECT_EQ(r["tier"], "namespace");
  EXPECT_EQ(r["seccomp"].rfind("on, ", 0), 0u);
  EXPECT_EQ(r["userns"].rfind("idmapped 0→", 0), 0u);
}

TEST(NamespaceBackend, WritesGoToScratchAndWorkspaceFilesBelongToHostRoot) {
  REQUIRE_SANDBOX_HOST();
  Sandbox s = make_sandbox("probe-write", "ns_probe");
  std::unique_ptr<Instance> inst;
  auto f = boot_probe(s, &inst);
  EXPECT_EQ(f["write_etc"], "ok");
  EXPECT_FALSE(sys::exists(s.spec.rootfs + "/etc/hull-probe")) << "image must not be modified";
  EXPECT_EQ(f["write_workspace"], "ok");
  struct stat st {};
  ASSERT_EQ(::stat((s.workspace.path() + "/hull-probe").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_gid, 0u);
}

TEST(NamespaceBackend, ReadOnlyWorkspaceRefusesWrites) {
  REQUIRE_SANDBOX_HOST();
  Sandbox s = make_sandbox("probe-ro", "ns_probe");
  s.spec.workspace_ro = true;
  std::unique_ptr<Instance> inst;
  auto f = boot_probe(s, &inst);
  EXPECT_EQ(f["write_workspace"], "EROFS");
  EXPECT_FALSE(sys::exists(s.workspace.path() + "/hull-probe"));
  auto rep = inst->report();
  std::map<std::string, std::string> r(rep.begin(), rep.end());
  EXPECT_EQ(r["workspace"].rfind("/workspace ro, owner ", 0), 0u) << r["workspace"];
}

TEST(NamespaceBackend, DestroyLeavesNoProcessMountOrCgroupAndIsIdempotent) {
  REQUIRE_SANDBOX_HOST();
  Sandbox s = make_sandbox("probe-destroy", "ns_hog");  // waits on fd 3 forever
  auto be = make_backend(BackendKind::kNamespace);
  auto booted = (*be)->boot(s.spec);
  ASSERT_TRUE(booted.ok()) << booted.error().message();
  auto cgroups = recorded_cgroups(s.state.path());
  ASSERT_GE(cgroups.size(), 2u);
  for (const auto& d : cgroups) EXPECT_TRUE(sys::exists(d)) << d;
  pid_t pid = booted->instance->host_pid();
  EXPECT_EQ(::kill(pid, 0), 0);
  ASSERT_TRUE(booted->instance->destroy().ok());
  EXPECT_TRUE(booted->instance->destroy().ok());
  for (const auto& d : cgroups) EXPECT_FALSE(sys::exists(d)) << d;
  EXPECT_FALSE(sys::exists("/proc/" + std::to_string(pid) + "/status"));
  auto mounts = sys::read_file("/proc/mounts");
  ASSERT_TRUE(mounts.ok());
  EXPECT_EQ(mounts->find(s.state.path()), std::string::npos);
  EXPECT_FALSE(sys::exists(s.state.path() + "/backend.json"));
  EXPECT_FALSE(sys::exists(s.state.path() + "/ns-scratch"));
}

TEST(NamespaceBackend, ForkBombIsStoppedByThePidsLimit) {
  REQUIRE_SANDBOX_HOST();
  Sandbox s = make_sandbox("hog-fork", "ns_hog");
  s.spec.limits.pids = 32;
  auto booted = (*make_backend(BackendKind::kNamespace))->boot(s.spec);
  ASSERT_TRUE(booted.ok()) << booted.error().message();
  ASSERT_TRUE(sys::write_all(booted->channel.get(), std::string("forkbomb\n")).ok());
  std::string out = read_all(booted->channel.get());
  int forked = -1;
  char err[32]{};
  ASSERT_EQ(std::sscanf(out.c_str(), "forked=%d errno=%31s", &forked, err), 2) << out;
  EXPECT_LT(forked, 32);
  EXPECT_STREQ(err, "EAGAIN");
  pid_t p = ::fork();  // the host can still fork
  if (p == 0) ::_exit(0);
  ASSERT_GT(p, 0);
  ::waitpid(p, nullptr, 0);
  EXPECT_TRUE(booted->instance->destroy().ok());
}

TEST(NamespaceBackend, MemoryHogIsOomKilledAtTheMemoryLimit) {
  REQUIRE_SANDBOX_HOST();
  Sandbox s = make_sandbox("hog-mem", "ns_hog");
  s.spec.limits.memory_bytes = 64ull << 20;
  auto booted = (*make_backend(BackendKind::kNamespace))->boot(s.spec);
  ASSERT_TRUE(booted.ok()) << booted.error().message();
  auto cgroups = recorded_cgroups(s.state.path());
  ASSERT_TRUE(sys::write_all(booted->channel.get(), std::string("memory\n")).ok());
  std::string out = read_all(booted->channel.get());  // EOF when the agent dies
  int last = 0;
  for (size_t i = out.rfind("mib="); i != std::string::npos; i = std::string::npos)
    last = std::atoi(out.c_str() + i + 4);
  EXPECT_GT(last, 0);
  EXPECT_LT(last, 64);
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PIDFD, static_cast<id_t>(booted->instance->exit_fd()), &info, WEXITED), 0);
  EXPECT_EQ(info.si_code, CLD_KILLED);
  EXPECT_EQ(info.si_status, SIGKILL);
  for (const auto& d : cgroups) {
    if (d.find("/memory/") == std::string::npos) continue;
    auto oom = sys::read_file(d + "/memory.oom_control");
    ASSERT_TRUE(oom.ok());
    EXPECT_EQ(oom->find("oom_kill 0"), std::string::npos) << *oom;
  }
  EXPECT_TRUE(booted->instance->destroy().ok());
}

TEST(NamespaceBackend, BootFailureNamesTheStepAndLeavesNothing) {
  REQUIRE_SANDBOX_HOST();
  Sandbox s = make_sandbox("probe-fail", "ns_probe");
  std::string not_exec = s.state.path() + "/not-executable";
  ASSERT_TRUE(sys::write_file_atomic(not_exec, "just text\n", 0644).ok());
  s.spec.agent_path = not_exec;
  auto booted = (*make_backend(BackendKind::kNamespace))->boot(s.spec);
  ASSERT_FALSE(booted.ok());
  EXPECT_NE(booted.error().message().find("execve hull-agent"), std::string::npos)
      << booted.error().message();
  EXPECT_EQ(booted.error().err, EACCES);
  EXPECT_FALSE(sys::exists(s.state.path() + "/backend.json"));
  EXPECT_FALSE(sys::exists(s.state.path() + "/ns-scratch"));
}

TEST(NamespaceBackend, ReapLeftoversCleansUpAfterTheSupervisorWasKilled) {
  REQUIRE_SANDBOX_HOST();
  Sandbox s = make_sandbox("probe-reap", "ns_hog");
  auto ready = sys::pipe();
  ASSERT_TRUE(ready.ok());
  pid_t supervisor = ::fork();
  if (supervisor == 0) {  // stands in for a supervisor that gets SIGKILLed
    auto booted = (*make_backend(BackendKind::kNamespace))->boot(s.spec);
    char c = booted.ok() ? 'y' : 'n';
    (void)::write(ready->second.get(), &c, 1);
    for (;;) ::pause();
  }
  ASSERT_GT(supervisor, 0);
  ready->second.reset();
  char c = 0;
  ASSERT_EQ(::read(ready->first.get(), &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto cgroups = recorded_cgroups(s.state.path());
  ASSERT_GE(cgroups.size(), 2u);
  ::kill(supervisor, SIGKILL);
  ::waitpid(supervisor, nullptr, 0);
  ASSERT_TRUE(reap_leftovers(s.state.path()).ok());
  for (const auto& d : cgroups) EXPECT_FALSE(sys::exists(d)) << d;
  EXPECT_FALSE(sys::exists(s.state.path() + "/backend.json"));
  EXPECT_TRUE(reap_leftovers(s.state.path()).ok()) << "safe to call twice";
}

}  // namespace
}  // namespace hull::backend
