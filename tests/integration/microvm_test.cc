// What only the microvm backend has: its own guest kernel, a console that
// explains how the guest ended. (Everything the backends share runs as the
// "microvm:" copy of the Cli* suites.)
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "backend/microvm/accel_probe.h"
#include "cli_harness.h"
#include "supervisor_harness.h"

namespace hull::testing {
namespace {

class MicrovmCli : public CliTest {};

// The guest kernel hull would boot, as `hull doctor --json` reports it.
std::string paths_guest_kernel() {
  auto doctor = nlohmann::json::parse(run_hull({"doctor", "--json"}).out, nullptr, false);
  if (doctor.is_discarded()) return {};
  for (const auto& p : doctor["backends"]["microvm"]["probes"]) {
    if (p["name"] == "guest-kernel" && p["ok"].get<bool>()) {
      std::string d = p["detail"].get<std::string>();
      return d.substr(0, d.find(' '));
    }
  }
  return {};
}

TEST_F(MicrovmCli, UnameIsTheGuestKernelsReleaseNotTheHosts) {
  HULL_REQUIRE_MICROVM();
  auto r = run_hull({"run", "--rm", "--backend", "microvm", "--", "uname", "-r"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  utsname host{};
  ASSERT_EQ(::uname(&host), 0);
  EXPECT_NE(r.out, std::string(host.release) + "\n");
  auto doctor = nlohmann::json::parse(run_hull({"doctor", "--json"}).out);
  // The kernel hull built: its release is recorded next to it.
  std::string kernel;
  for (const auto& p : doctor["backends"]["microvm"]["probes"])
    if (p["name"] == "guest-kernel") kernel = p["detail"].get<std::string>();
  ASSERT_FALSE(kernel.empty()) << doctor.dump();
  std::string release = kernel.substr(kernel.find('(') + 1);
  release = release.substr(0, release.find(')'));
  EXPECT_EQ(r.out, release + "\n") << doctor.dump();
}

TEST_F(MicrovmCli, InspectAndStderrNameTheTierHonestly) {
  HULL_REQUIRE_MICROVM();
  auto r = run_hull({"run", "-d", "--name", "t", "--backend", "microvm", "--", "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = inspect_json("t");
  std::string tier = info["state"].value("tier", "");
  EXPECT_TRUE(tier == "microvm-tcg" || tier == "microvm-kvm") << info.dump();
  if (tier == "microvm-tcg") {
    EXPECT_NE(r.err.find("microvm-tcg"), std::string::npos) << "a TCG run says so on stderr: " << r.err;
  }
}

// QEMU is confined on the host: no_new_privs, Landlock to the files it was
// handed (where the kernel has Landlock), its own cgroups.
TEST_F(MicrovmCli, QemuRunsConfinedOnTheHost) {
  HULL_REQUIRE_MICROVM();
  auto r = run_hull({"run", "-d", "--name", "q", "--backend", "microvm", "--", "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = inspect_json("q");
  const int qemu = info["state"].value("boundary_pid", 0);
  ASSERT_GT(qemu, 0);
  std::ifstream status("/proc/" + std::to_string(qemu) + "/status");
  std::string line, nnp, uid;
  while (std::getline(status, line)) {
    if (line.rfind("NoNewPrivs:", 0) == 0) nnp = line;
    if (line.rfind("Uid:", 0) == 0) uid = line;
  }
  EXPECT_EQ(nnp, "NoNewPrivs:\t1");
  if (::geteuid() == 0) {
    // Root's hull does not run QEMU as root, nor as a shared "nobody": a
    // uid leased for this sandbox (tests/hostile/qemu_identity_test.cc).
    EXPECT_EQ(uid.find("Uid:\t0\t"), std::string::npos) << uid;
    EXPECT_EQ(uid.find("Uid:\t65534\t"), std::string::npos) << uid;
  }
  std::map<std::string, std::string> report;
  for (const auto& [k, v] : info["state"]["limits_report"].items()) report[k] = v.get<std::string>();
  ASSERT_TRUE(report.count("qemu-files")) << info.dump();
  if (access("/sys/kernel/security/landlock", F_OK) == 0 || report["qemu-files"].rfind("landlock", 0) == 0) {
    EXPECT_EQ(report["qemu-files"].rfind("landlock abi ", 0), 0u) << report["qemu-files"];
  }
  EXPECT_EQ(report["qemu-host-limits"].rfind("cgroup v", 0), 0u) << report["qemu-host-limits"];
}

// A guest whose kernel cannot mount its root panics; the sandbox ends at
// once with the panic message and the console lines before it.
TEST_F(MicrovmCli, GuestKernelPanicEndsTheSandboxWithTheConsoleTail) {
  HULL_REQUIRE_MICROVM();
  ::setenv("HULL_GUEST_CMDLINE_APPEND", "rdinit=/no-such-init", 1);
  auto r = run_hull({"run", "--name", "p", "--backend", "microvm", "--", "true"}, {.timeout_s = 60});
  ::unsetenv("HULL_GUEST_CMDLINE_APPEND");
  EXPECT_EQ(r.exit_code, 125) << r.err;
  EXPECT_NE(r.err.find("guest kernel panicked: VFS: Unable to mount root fs"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("  | "), std::string::npos) << "the console tail is shown: " << r.err;

  auto ls = ls_json(true);
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_EQ(ls[0]["status"], "failed");
  EXPECT_NE(ls[0].value("error", "").find("guest kernel panicked"), std::string::npos) << ls.dump();

  auto logs = run_hull({"logs", "--console", "p"});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_NE(logs.out.find("Kernel panic - not syncing"), std::string::npos) << logs.out;
}

// A guest writing without end to its serial console fills the size-capped
// log; the watchdog stops it and says why, and the host file stays bounded.
TEST_F(MicrovmCli, ConsoleFloodIsStoppedAndReported) {
  HULL_REQUIRE_MICROVM();
  auto r = run_hull({"run", "-d", "--name", "f", "--backend", "microvm", "--", "sh", "-c",
                     "yes 'flooding the console' > /dev/ttyS0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const int qemu = inspect_json("f")["state"].value("boundary_pid", 0);
  auto e = wait_until_final("f", 120);
  ASSERT_FALSE(e.is_null()) << "a flooding guest was not stopped";
  EXPECT_EQ(e["status"], "failed");
  EXPECT_NE(e.value("error", "").find("guest flooded its console"), std::string::npos) << e.dump();
  auto console = std::filesystem::path(inspect_json("f").value("dir", "")) / "console.log";
  EXPECT_LE(std::filesystem::file_size(console), 1u << 20);
  EXPECT_FALSE(supervisor::testing::process_running(qemu));
}

// With a workspace, QEMU acts on it as its owner (an idmapped mount): what
// the guest creates there belongs to that user on the host, not to root.
TEST_F(MicrovmCli, WorkspaceFilesBelongToTheWorkspaceOwner) {
  HULL_REQUIRE_MICROVM();
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to hand the workspace to another uid";
  auto ws = home_ + "/ws";
  std::filesystem::create_directories(ws);
  ASSERT_EQ(::chown(ws.c_str(), 4242, 4242), 0);
  auto r = run_hull({"run", "--rm", "--backend", "microvm", "--workspace", ws, "--", "sh", "-c",
                     "echo data > /workspace/made && cat /workspace/made"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "data\n");
  struct stat st {};
  ASSERT_EQ(::stat((ws + "/made").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 4242u);
}

TEST_F(MicrovmCli, ConsoleLogsOfANamespaceSandboxSayThereIsNone) {
  HULL_REQUIRE_IMAGE();
  auto r = run_hull({"run", "-d", "--name", "n", "--backend", "namespace", "--", "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto logs = run_hull({"logs", "--console", "n"});
  EXPECT_EQ(logs.exit_code, 125);
  EXPECT_NE(logs.err.find("has no guest console"), std::string::npos) << logs.err;
}

// /dev/kvm may exist and still not run our guest (here: it only runs
// para-virtualised guests, and QEMU aborts). The probe must decide within
// its timeout either way, and say why.
TEST_F(MicrovmCli, KvmProbeDecidesWithinItsTimeoutAndSaysWhy) {
  HULL_REQUIRE_MICROVM();
  std::string kernel = paths_guest_kernel();
  ASSERT_FALSE(kernel.empty());
  const auto t0 = std::chrono::steady_clock::now();
  auto a = backend::microvm::probe_kvm("/usr/bin/qemu-system-x86_64", kernel);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, backend::microvm::kKvmProbeTimeout + std::chrono::seconds(2)) << a.reason;
  EXPECT_EQ(a.reason.rfind("kvm: ", 0), 0u) << a.reason;
  if (a.accel == backend::microvm::Accel::kKvm) {
    EXPECT_NE(a.reason.find("-> kvm"), std::string::npos) << a.reason;
  } else {
    EXPECT_NE(a.reason.find("-> tcg"), std::string::npos) << a.reason;
  }
  std::printf("kvm probe: %s\n", a.reason.c_str());
}

}  // namespace
}  // namespace hull::testing
