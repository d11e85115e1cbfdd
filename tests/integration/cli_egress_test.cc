// The sandbox's one way out: the agent's proxy listener, the host's egress
// process and its policy, end to end with real clients inside (curl,
// python3) and a real HTTP server on the host's loopback. Test names map to
// that server through the test-only resolver override
// (HULL_TEST_EGRESS_HOSTS), and the loopback refusal is lifted only for the
// server's exact host:port (HULL_TEST_EGRESS_LOOPBACK).
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "base/temp_dir.h"
#include "cli_harness.h"
#include "supervisor_harness.h"
#include "test_http_server.h"

namespace hull::testing {
namespace {

class CliEgress : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    port_ = std::to_string(server_.port());
    ::setenv("HULL_TEST_EGRESS_HOSTS",
             "allowed.test=127.0.0.1,other.test=127.0.0.1,private.test=10.0.0.7,mixed.test=127.0.0.1;10.0.0.7",
             1);
    ::setenv("HULL_TEST_EGRESS_LOOPBACK", ("127.0.0.1:" + port_).c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("HULL_TEST_EGRESS_HOSTS");
    ::unsetenv("HULL_TEST_EGRESS_LOOPBACK");
    CliTest::TearDown();
  }
  // `hull run --rm` with the network flags, then `sh -c script` inside.
  HullResult run_net(const std::vector<std::string>& net_flags, const std::string& script) {
    std::vector<std::string> args = {"run", "--rm"};
    args.insert(args.end(), net_flags.begin(), net_flags.end());
    args.insert(args.end(), {"--", "sh", "-c", script});
    return run_hull(args);
  }
  std::string url(const std::string& host, const std::string& path = "/hello") {
    return "http://" + host + ":" + port_ + path;
  }
  // curl printing the body, then the status code on its own line.
  std::string curl(const std::string& extra, const std::string& target) {
    return "curl -sS --max-time 60 " + extra + " -w '\\n%{http_code}\\n' '" + target + "'";
  }
  TestHttpServer server_;
  std::string port_;
};

TEST_F(CliEgress, AnAllowedNameIsReachedThroughTheProxyAndARefusedOneGetsA403NamingTheRule) {
  HULL_REQUIRE_IMAGE();
  auto r = run_net({"--network", "locked", "--allow", "allowed.test:" + port_},
                   curl("", url("allowed.test")) + "; " + curl("", url("other.test", "/secret")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("hello GET /hello\n\n200"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("403"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("egress to other.test:" + port_ + " refused"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--allow other.test:" + port_), std::string::npos) << "the 403 names the flag: " << r.out;
  for (const auto& req : server_.requests())
    EXPECT_EQ(req.head.find("/secret"), std::string::npos) << "a refused request reached the server";
  ASSERT_EQ(server_.requests().size(), 1u);
  EXPECT_NE(server_.requests()[0].head.find("Host: allowed.test:" + port_), std::string::npos);
}

TEST_F(CliEgress, ConnectAndSocks5TunnelsAreDecidedTheSameWay) {
  HULL_REQUIRE_IMAGE();
  auto r = run_net({"--network", "locked", "--allow", "allowed.test"},
                   curl("--proxytunnel", url("allowed.test", "/tunnel")) + "; " +
                       curl("--socks5-hostname 127.0.0.1:3128", url("allowed.test", "/socks")) + "; " +
                       curl("--proxytunnel", url("other.test", "/nope")) + " ; echo rc=$?");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("hello GET /tunnel\n\n200"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hello GET /socks\n\n200"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("/nope\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rc=56"), std::string::npos) << "curl: CONNECT refused (403): " << r.out << r.err;
  EXPECT_EQ(server_.requests().size(), 2u);
}

TEST_F(CliEgress, LockedRefusesEverything) {
  HULL_REQUIRE_IMAGE();
  auto r = run_net({"--network", "locked"}, curl("", url("allowed.test")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\n403\n"), std::string::npos) << r.out;
  EXPECT_TRUE(server_.requests().empty());
}

// Even `open` with an allowing wildcard never reaches a private address or
// an IP literal: only an explicit CIDR rule does.
TEST_F(CliEgress, PrivateAddressesAndIpLiteralsAreRefusedEvenUnderOpenAndAWildcard) {
  HULL_REQUIRE_IMAGE();
  auto r = run_net({"--network", "open", "--allow", "*"},
                   curl("", url("private.test")) + "; " + curl("", url("mixed.test")) + "; " +
                       curl("", "http://0x0a000007:" + port_ + "/") + "; " +
                       curl("", "http://169.254.169.254/latest/meta-data/"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t refusals = 0;
  for (size_t p = r.out.find("\n403\n"); p != std::string::npos; p = r.out.find("\n403\n", p + 1)) ++refusals;
  EXPECT_EQ(refusals, 4u) << r.out;
  EXPECT_NE(r.out.find("private"), std::string::npos) << r.out;
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(CliEgress, AMethodRuleLetsGetThroughAndRefusesPostToTheSameHost) {
  HULL_REQUIRE_IMAGE();
  auto r = run_net({"--network", "locked", "--allow", "GET,HEAD allowed.test/*"},
                   curl("", url("allowed.test", "/read")) + "; " +
                       curl("-X POST --data x=1", url("allowed.test", "/write")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("hello GET /read\n\n200"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n403\n"), std::string::npos) << r.out;
  ASSERT_EQ(server_.requests().size(), 1u);
  EXPECT_EQ(server_.requests()[0].head.find("POST"), std::string::npos);
}

// Two requests pipelined on one kept-alive connection: the second gets its
// own decision (and never reaches the server when refused).
TEST_F(CliEgress, APipelinedSecondRequestIsDecidedOnItsOwn) {
  HULL_REQUIRE_IMAGE();
  const std::string py =
      "import socket\n"
      "s = socket.create_connection(('127.0.0.1', 3128))\n"
      "s.sendall(b'GET " + url("allowed.test", "/first") + " HTTP/1.1\\r\\nHost: allowed.test:" + port_ +
      "\\r\\n\\r\\nGET " + url("other.test", "/second") + " HTTP/1.1\\r\\nHost: other.test:" + port_ +
      "\\r\\n\\r\\n')\n"
      "out = b''\n"
      "while True:\n"
      "    b = s.recv(65536)\n"
      "    if not b: break\n"
      "    out += b\n"
      "print(out.decode())\n";
  auto r = run_hull({"run", "--rm", "--network", "locked", "--allow", "allowed.test", "--", "python3", "-c", py});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("hello GET /first"), std::string::npos) << r.out;
  ASSERT_EQ(server_.requests().size(), 1u) << r.out;
  EXPECT_EQ(server_.requests()[0].head.find("/second"), std::string::npos);
}

TEST_F(CliEgress, TheProxyVariablesAreSetAndEveryAttemptIsLogged) {
  HULL_REQUIRE_IMAGE();
  auto run = run_hull({"run", "-d", "--name", "n", "--network", "locked", "--allow", "allowed.test", "--",
                       "sleep", "1000"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto env = run_hull({"exec", "n", "--", "env"});
  EXPECT_NE(env.out.find("http_proxy=http://127.0.0.1:3128"), std::string::npos) << env.out;
  EXPECT_NE(env.out.find("HTTPS_PROXY=http://127.0.0.1:3128"), std::string::npos) << env.out;
  EXPECT_NE(env.out.find("NO_PROXY=localhost,127.0.0.1,::1"), std::string::npos) << env.out;
  auto a = run_hull({"exec", "n", "--", "sh", "-c", curl("", url("allowed.test")) + ";" + curl("", url("other.test"))});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  auto log = run_hull({"logs", "--network", "--json", "n"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  std::vector<nlohmann::json> conns;
  std::istringstream lines(log.out);
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    if (j.value("kind", "") == "connection") conns.push_back(j);
  }
  ASSERT_EQ(conns.size(), 2u) << log.out;
  EXPECT_EQ(conns[0]["decision"], "allowed");
  EXPECT_EQ(conns[0]["host"], "allowed.test");
  EXPECT_EQ(conns[0]["address"], "127.0.0.1");
  EXPECT_EQ(conns[0]["method"], "GET");
  EXPECT_GT(conns[0]["bytes_down"].get<uint64_t>(), 0u);
  EXPECT_NE(conns[0]["client"].get<std::string>().find("curl"), std::string::npos) << conns[0].dump();
  EXPECT_EQ(conns[1]["decision"], "refused");
  EXPECT_EQ(conns[1]["host"], "other.test");
  auto human = run_hull({"logs", "--network", "n"});
  EXPECT_NE(human.out.find("refused  GET other.test:" + port_), std::string::npos) << human.out;
  auto info = inspect_json("n");
  EXPECT_EQ(info["network"]["attempts"], 2);
  EXPECT_EQ(info["network"]["allowed"], 1);
  EXPECT_EQ(info["network"]["refused"], 1);
}

// The egress process dies (killed from the host) while a download runs: the
// download fails, the sandbox lives on, the death is logged, and the next
// connection works through a new egress process.
TEST_F(CliEgress, KillingTheEgressProcessMidTransferFailsThatConnectionAndTheNextOneWorks) {
  HULL_REQUIRE_IMAGE();
  TestHttpServer slow(uint64_t{1} << 30, 256 * 1024);  // sends 256 KiB of 1 GiB, then holds
  const std::string slow_port = std::to_string(slow.port());
  ::setenv("HULL_TEST_EGRESS_LOOPBACK", ("127.0.0.1:" + port_ + ",127.0.0.1:" + slow_port).c_str(), 1);
  auto run = run_hull({"run", "-d", "--name", "k", "--network", "locked", "--allow", "allowed.test", "--",
                       "sleep", "1000"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  HullResult download;
  std::thread downloader([&] {
    download = run_hull({"exec", "k", "--", "sh", "-c",
                         "curl -sS -o /dev/null 'http://allowed.test:" + slow_port + "/big'; echo rc=$?"});
  });
  ASSERT_TRUE(slow.wait_for_requests(1, std::chrono::seconds(120))) << "the download never started";
  auto pids = processes_mentioning("__egress");
  ASSERT_EQ(pids.size(), 1u);
  ASSERT_TRUE(supervisor::testing::kill_and_wait_gone(pids[0]));
  downloader.join();
  EXPECT_EQ(download.exit_code, 0) << download.err;
  EXPECT_EQ(download.out.find("rc=0"), std::string::npos) << "the download cannot have finished: " << download.out;
  EXPECT_NE(download.out.find("rc="), std::string::npos) << download.out;

  auto after = run_hull({"exec", "k", "--", "sh", "-c", curl("", url("allowed.test", "/two"))});
  EXPECT_NE(after.out.find("hello GET /two"), std::string::npos) << after.out << after.err;
  auto ls = ls_json(false);
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_EQ(ls[0]["status"], "running");
  EXPECT_EQ(processes_mentioning("__egress").size(), 1u) << "a new egress process";
  auto log = run_hull({"logs", "--network", "--json", "k"});
  EXPECT_NE(log.out.find("egress-process-exited"), std::string::npos) << log.out;
}

// Tools that look a name up before they use the proxy ask the agent's stub
// resolver; the host answers from its own lookup, and a name the policy
// refuses (or whose address it refuses) does not exist.
TEST_F(CliEgress, TheStubResolverAnswersAllowedNamesAndRefusedOnesDoNotExist) {
  HULL_REQUIRE_IMAGE();
  auto r = run_net({"--network", "locked", "--allow", "allowed.test", "--allow", "private.test"},
                   "cat /etc/resolv.conf; getent hosts allowed.test; echo allowed=$?; getent hosts other.test;"
                   " echo other=$?; getent hosts private.test; echo private=$?;"
                   " python3 -c \"import socket; print('py', socket.gethostbyname('allowed.test'))\"");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("nameserver 127.0.0.1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("127.0.0.1       allowed.test"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("allowed=0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("other=2"), std::string::npos) << "refused by the policy: " << r.out;
  EXPECT_NE(r.out.find("private=2"), std::string::npos) << "its only address is private: " << r.out;
  EXPECT_NE(r.out.find("py 127.0.0.1"), std::string::npos) << r.out;
}

// git over smart HTTP (the real `git http-backend` behind the test server)
// through the proxy: a clone works; with method/path rules that allow only
// reading, the push is refused by the proxy and never reaches the server,
// although the server would take it.
TEST_F(CliEgress, GitClonesOverSmartHttpAndMethodPathRulesKeepItReadOnly) {
  HULL_REQUIRE_IMAGE();
  auto root = TempDir::create("/tmp", "hull-git-");
  ASSERT_TRUE(root.ok());
  const std::string r = root->path();
  const std::string id = "-c user.name=t -c user.email=t@example.com";
  ASSERT_EQ(std::system(("git init -q -b main " + r + "/src && echo 'hi from git' > " + r +
                         "/src/README && git -C " + r + "/src add README && git " + id + " -C " + r +
                         "/src commit -qm one && git clone -q --bare " + r + "/src " + r +
                         "/root/repo.git && git -C " + r + "/root/repo.git config http.receivepack true")
                            .c_str()),
            0);
  auto git = TestHttpServer::git_backend(r + "/root");
  const std::string gport = std::to_string(git->port());
  ::setenv("HULL_TEST_EGRESS_HOSTS", "git.test=127.0.0.1", 1);
  ::setenv("HULL_TEST_EGRESS_LOOPBACK", ("127.0.0.1:" + gport).c_str(), 1);
  const std::string script = "cd /tmp && git clone -q http://git.test:" + gport +
                             "/repo.git r && cat r/README && cd r && echo more >> README && git " + id +
                             " commit -qam two && git push -q origin HEAD:main; echo push=$?";
  auto res = run_net({"--network", "locked", "--allow", "GET git.test/*", "--allow",
                      "POST git.test/*/git-upload-pack"},
                     script);
  ASSERT_EQ(res.exit_code, 0) << res.err;
  EXPECT_NE(res.out.find("hi from git"), std::string::npos) << res.out << res.err;
  EXPECT_NE(res.out.find("push=1"), std::string::npos) << res.out << res.err;
  EXPECT_NE(res.err.find("403"), std::string::npos) << res.err;
  bool saw_upload = false;
  for (const auto& req : git->requests()) {
    EXPECT_EQ(req.head.find("POST /repo.git/git-receive-pack"), std::string::npos) << "the push reached the server";
    saw_upload = saw_upload || req.head.find("POST /repo.git/git-upload-pack") != std::string::npos;
  }
  EXPECT_TRUE(saw_upload) << "the clone went through the smart protocol";
}

// 200 connections at once through one sandbox all complete, and the egress
// process's memory stays bounded (its peak is printed for the record).
TEST_F(CliEgress, TwoHundredConcurrentConnectionsComplete) {
  HULL_REQUIRE_IMAGE();
  auto run = run_hull({"run", "-d", "--name", "c", "--network", "locked", "--allow", "allowed.test", "--",
                       "sleep", "1000"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string py =
      "import threading, urllib.request\n"
      "ok = []\n"
      "def get(i):\n"
      "    with urllib.request.urlopen('" + url("allowed.test", "/c") + "' + str(i), timeout=120) as r:\n"
      "        if r.read() == b'hello GET /c%d\\n' % i: ok.append(i)\n"
      "ts = [threading.Thread(target=get, args=(i,)) for i in range(200)]\n"
      "[t.start() for t in ts]\n"
      "[t.join() for t in ts]\n"
      "print('ok', len(ok))\n";
  auto r = run_hull({"exec", "c", "--", "python3", "-c", py}, {.timeout_s = 300});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ok 200"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(server_.requests().size(), 200u);
  auto pids = processes_mentioning("__egress");
  ASSERT_EQ(pids.size(), 1u);
  const long peak = supervisor::testing::peak_rss_kib(pids[0]);
  std::printf("egress process peak RSS after 200 concurrent connections: %ld KiB\n", peak);
  EXPECT_GT(peak, 0);
  EXPECT_LT(peak, 128 * 1024) << "the egress process's memory should not grow with the connection count";
}

TEST_F(CliEgress, ABadRuleIsRefusedBeforeTheSandboxStarts) {
  auto r = run_hull({"run", "--rm", "--network", "locked", "--allow", "exa mple.com", "--", "true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("bad --allow 'exa mple.com'"), std::string::npos) << r.err;
  auto n = run_hull({"run", "--rm", "--allow", "example.com", "--", "true"});
  EXPECT_EQ(n.exit_code, 125);
  EXPECT_NE(n.err.find("--network"), std::string::npos) << n.err;
}

}  // namespace
}  // namespace hull::testing
