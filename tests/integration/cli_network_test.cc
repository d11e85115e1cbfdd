// A sandbox's network is its own loopback and nothing else. Proved against
// listeners this test starts: one on the host's loopback, one in a network
// namespace the test makes (ip netns + veth) that the host itself can reach.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "base/fd.h"
#include "cli_harness.h"

namespace hull::testing {
namespace {

// Runs a shell command on the host; true when it exits 0.
bool host_sh(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

// A TCP listener on 127.0.0.1 with a kernel-chosen port.
struct LoopbackListener {
  UniqueFd fd;
  int port = 0;
  LoopbackListener() {
    fd = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd.get(), 4) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port = ntohs(a.sin_port);
  }
};

// A network namespace joined to the host by a veth pair (10.213.<n>.1 on the
// host side, .2 inside) with a listener on .2; removed on destruction.
class TestNetns {
 public:
  TestNetns() : tag_(std::to_string(::getpid() % 100000)) {
    ns_ = "hullt-" + tag_;
    const std::string host_if = "hv" + tag_, ns_if = "hp" + tag_;
    const std::string net = "10.213." + std::to_string(::getpid() % 250) + ".";
    peer_ = net + "2";
    ok_ = host_sh("ip netns add " + ns_) &&
          host_sh("ip link add " + host_if + " type veth peer name " + ns_if) &&
          host_sh("ip link set " + ns_if + " netns " + ns_) &&
          host_sh("ip addr add " + net + "1/30 dev " + host_if) && host_sh("ip link set " + host_if + " up") &&
          host_sh("ip -n " + ns_ + " addr add " + peer_ + "/30 dev " + ns_if) &&
          host_sh("ip -n " + ns_ + " link set " + ns_if + " up") && host_sh("ip -n " + ns_ + " link set lo up");
    host_if_ = host_if;
    if (ok_) start_listener();
  }
  ~TestNetns() {
    if (listener_pid_ > 0) {
      ::kill(listener_pid_, SIGKILL);
      ::waitpid(listener_pid_, nullptr, 0);
    }
    host_sh("ip link del " + host_if_ + " 2>/dev/null");
    host_sh("ip netns del " + ns_ + " 2>/dev/null");
  }
  bool ok() const { return ok_ && listener_pid_ > 0; }
  const std::string& peer() const { return peer_; }
  static constexpr int kPort = 8123;

 private:
  // The listener is a child in the namespace; it says "ready" once listening,
  // so the test waits on that line, not on a timer.
  void start_listener() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return;
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(p[1], 1);
      std::string code = "import socket\ns=socket.socket()\ns.bind(('" + peer_ + "'," +
                         std::to_string(kPort) +
                         "))\ns.listen(8)\nprint('ready',flush=True)\nwhile True: s.accept()[0].close()\n";
      ::execlp("ip", "ip", "netns", "exec", ns_.c_str(), "python3", "-c", code.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(p[1]);
    if (pid > 0) listener_pid_ = pid;
    // The read end stays open while the listener lives: closing it would
    // make the listener's last flush fail with EPIPE and kill it.
    ready_pipe_ = UniqueFd(p[0]);
    std::string line;
    char c = 0;
    while (line.size() < 16 && ::read(ready_pipe_.get(), &c, 1) == 1 && c != '\n') line += c;
    if (line != "ready") ok_ = false;
  }

  std::string tag_, ns_, host_if_, peer_;
  bool ok_ = false;
  pid_t listener_pid_ = -1;
  UniqueFd ready_pipe_;
};

// Python run inside the sandbox: connect, print "connected" or the errno name.
std::string connect_probe(const std::string& host, int port) {
  return "import socket, errno\ntry:\n    socket.create_connection(('" + host + "', " + std::to_string(port) +
         "), timeout=5)\n    print('connected')\nexcept OSError as e:\n"
         "    print(errno.errorcode.get(e.errno, str(e)))\n";
}

class CliNetwork : public CliTest {};

TEST_F(CliNetwork, OnlyTheSandboxesOwnLoopbackIsReachable) {
  HULL_REQUIRE_IMAGE();
  if (!host_sh("command -v ip >/dev/null && command -v python3 >/dev/null")) {
    GTEST_SKIP() << "needs ip (iproute2) and python3 on the host to build the test network";
  }
  LoopbackListener host_lo;
  ASSERT_GT(host_lo.port, 0);
  TestNetns netns;
  ASSERT_TRUE(netns.ok()) << "could not build the test network namespace";

  // Positive control: from the host, the namespace's listener answers. A
  // fresh veth reports carrier a moment after `ip link set up` returns, so
  // "unreachable" is retried until it does (bounded: 10 s).
  std::string host_probe =
      "python3 -c \"import socket, time\n"
      "end = time.monotonic() + 10\n"
      "while True:\n"
      "    try:\n"
      "        socket.create_connection(('" + netns.peer() + "', " + std::to_string(TestNetns::kPort) +
      "), timeout=5); break\n"
      "    except (socket.timeout, OSError) as e:\n"
      "        if time.monotonic() > end: raise\n"
      "        time.sleep(0.05)\n\"";
  ASSERT_TRUE(host_sh(host_probe)) << "the host cannot reach its own test namespace";

  // From the sandbox: its loopback works, the host's loopback listener is not
  // there (refused: a different loopback), the namespace is unreachable.
  auto own = run_hull({"run", "--rm", "--", "python3", "-c",
                       "import socket\ns=socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
                       "socket.create_connection(s.getsockname(), timeout=5); print('connected')"});
  EXPECT_EQ(own.exit_code, 0) << own.err;
  EXPECT_EQ(own.out, "connected\n");

  auto lo = run_hull({"run", "--rm", "--", "python3", "-c", connect_probe("127.0.0.1", host_lo.port)});
  EXPECT_EQ(lo.exit_code, 0) << lo.err;
  EXPECT_EQ(lo.out, "ECONNREFUSED\n");

  auto far = run_hull({"run", "--rm", "--", "python3", "-c", connect_probe(netns.peer(), TestNetns::kPort)});
  EXPECT_EQ(far.exit_code, 0) << far.err;
  EXPECT_EQ(far.out, "ENETUNREACH\n");

  auto links = run_hull({"run", "--rm", "--", "python3", "-c",
                         "import socket; print(' '.join(n for _, n in socket.if_nameindex()))"});
  EXPECT_EQ(links.exit_code, 0) << links.err;
  EXPECT_EQ(links.out, "lo\n");
}

}  // namespace
}  // namespace hull::testing
