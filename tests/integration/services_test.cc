// The image's [[service]] and [health], run by the supervisor: services
// start after boot and come back as their restart policy says, each with
// its own capped log; the health check moves starting → unhealthy →
// healthy as the sandbox's state changes, and what a check prints lands in
// state.json only bounded and printable. The image is the nix test flake,
// run on the backend under test; the project directory is the workspace, so
// services and checks leave traces the test reads on the host. Named Cli*
// so that ctest runs them on the microvm backend too.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "nix_project.h"

namespace hull::testing {
namespace {

namespace fs = std::filesystem;

class CliServices : public NixProjectTest {
 protected:
  void SetUp() override {
    NixProjectTest::SetUp();
    if (IsSkipped()) return;
    if (!backend_usable(backend_under_test()))
      GTEST_SKIP() << "the " << backend_under_test() << " backend is not usable here (see hull doctor)";
  }

  void start(const std::string& name) {
    auto r = run_hull({"run", "-d", "--name", name, "--image", project_, "--", kBusybox, "sleep", "600"},
                      {.timeout_s = 300});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(inspect_json(name)["spec"]["backend"], backend_under_test());
  }

  // Polls `hull inspect --json` (100 ms apart, up to 60 s) until `done`
  // holds for its state; the last state seen.
  nlohmann::json state_when(const std::string& name, const std::function<bool(const nlohmann::json&)>& done) {
    nlohmann::json st;
    for (int i = 0; i < 600; ++i) {
      st = inspect_json(name)["state"];
      if (done(st)) return st;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "condition not reached in 60 s; last state: " << st.dump(2);
    return st;
  }

  static nlohmann::json service(const nlohmann::json& st, const std::string& name) {
    for (const auto& s : st.value("services", nlohmann::json::array()))
      if (s["name"] == name) return s;
    return nullptr;
  }
};

TEST_F(CliServices, StartAfterBootAndRestartAsTheirPolicySays) {
  append_to_spec(R"([[service]]
name = "ticker"
cmd = ["/bin/busybox", "sh", "-c", "echo up >> /workspace/ticker.out; exec /bin/busybox sleep 600"]

[[service]]
name = "crasher"
cmd = ["/bin/busybox", "sh", "-c", "echo boom; exit 3"]
restart = "on-failure"

[[service]]
name = "once"
cmd = ["/bin/busybox", "sh", "-c", "echo done; exit 0"]
restart = "on-failure"
)");
  start("svc");
  auto st = state_when("svc", [](const nlohmann::json& s) {
    auto c = service(s, "crasher");
    return service(s, "ticker")["status"] == "running" && service(s, "once")["status"] == "exited" &&
           c.is_object() && c["restarts"].get<int>() >= 2;
  });
  EXPECT_EQ(service(st, "ticker")["restarts"], 0);
  EXPECT_EQ(slurp(project_ + "/ticker.out"), "up\n");  // started once, still running
  EXPECT_EQ(service(st, "crasher")["exit_code"], 3);
  EXPECT_EQ(service(st, "once")["exit_code"], 0);
  EXPECT_EQ(service(st, "once")["restarts"], 0);  // on-failure: a clean exit stays down

  auto log = run_hull({"logs", "svc", "--service", "crasher"});
  EXPECT_EQ(log.exit_code, 0) << log.err;
  EXPECT_NE(log.out.find("boom\n[hull: crasher exited with status 3]\nboom\n"), std::string::npos) << log.out;
  auto nope = run_hull({"logs", "svc", "--service", "../state"});
  EXPECT_NE(nope.exit_code, 0);
  EXPECT_NE(nope.err.find("its services: ticker, crasher, once"), std::string::npos) << nope.err;

  auto human = run_hull({"inspect", "svc"});
  EXPECT_NE(human.out.find("service ticker"), std::string::npos) << human.out;
}

TEST_F(CliServices, TheHealthCheckFollowsTheSandbox) {
  append_to_spec(R"([health]
cmd = ["/bin/busybox", "test", "-f", "/workspace/ready"]
interval = "100ms"
retries = 2
)");
  start("hc");
  auto st = state_when("hc", [](const nlohmann::json& s) { return s["health"]["status"] == "unhealthy"; });
  EXPECT_GE(st["health"]["failures"].get<int>(), 2);
  EXPECT_NE(st["health"]["last_output"].get<std::string>().find("status 1"), std::string::npos) << st;

  std::ofstream(project_ + "/ready") << "yes\n";
  st = state_when("hc", [](const nlohmann::json& s) { return s["health"]["status"] == "healthy"; });
  EXPECT_EQ(st["health"]["failures"], 0);
  auto ls = run_hull({"ls"});
  EXPECT_NE(ls.out.find("running (healthy)"), std::string::npos) << ls.out;
  EXPECT_EQ(ls_json()[0]["health"], "healthy");

  fs::remove(project_ + "/ready");
  state_when("hc", [](const nlohmann::json& s) { return s["health"]["status"] == "unhealthy"; });
}

// A check that hangs fails by its timeout; one that floods its output with
// binary leaves only a bounded, printable line in state.json.
TEST_F(CliServices, AHangingOrFloodingCheckIsBoundedAndFails) {
  append_to_spec(R"([health]
cmd = ["/bin/busybox", "sh", "-c", "/bin/busybox head -c 200000 /dev/urandom; exec /bin/busybox sleep 600"]
interval = "100ms"
timeout = "300ms"
retries = 1
)");
  const auto t0 = std::chrono::steady_clock::now();
  start("flood");
  auto st = state_when("flood", [](const nlohmann::json& s) { return s["health"]["status"] == "unhealthy"; });
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
  const std::string out = st["health"]["last_output"];
  EXPECT_LE(out.size(), 1024u);
  for (unsigned char c : out) ASSERT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << int(c);
  EXPECT_EQ(inspect_json("flood")["state"]["status"], "running");  // a failing check does not stop the sandbox
}

}  // namespace
}  // namespace hull::testing
