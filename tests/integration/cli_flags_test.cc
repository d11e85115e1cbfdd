// CLI behaviour that needs no running sandbox: flag validation, exit codes,
// help text, empty listings.
#include <filesystem>
#include <fstream>

#include "cli_harness.h"

namespace hull::testing {
namespace {

class CliFlags : public CliTest {};

TEST_F(CliFlags, UnknownFlagExits125) {
  auto r = run_hull({"run", "--no-such-flag", "--", "true"});
  EXPECT_EQ(r.exit_code, 125) << r.err;
  EXPECT_NE(r.err.find("no-such-flag"), std::string::npos) << r.err;
}

TEST_F(CliFlags, MissingWorkspaceExits125WithAClearMessage) {
  auto r = run_hull({"run", "--workspace", home_ + "/does-not-exist", "--", "true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("hull: workspace"), std::string::npos) << r.err;
}

TEST_F(CliFlags, WorkspaceThatIsAFileExits125) {
  std::ofstream(home_ + "/file") << "x";
  auto r = run_hull({"run", "--workspace", home_ + "/file", "--", "true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("not a directory"), std::string::npos) << r.err;
}

TEST_F(CliFlags, InvalidNameExits125) {
  auto r = run_hull({"run", "--name", "Bad/Name", "--", "true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("invalid --name"), std::string::npos) << r.err;
}

TEST_F(CliFlags, NameInUseExits125) {
  std::filesystem::create_directories(home_ + "/state/sandboxes/taken");
  auto r = run_hull({"run", "--name", "taken", "--", "true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("sandbox name 'taken' is already in use (hull rm taken, or pick --name)"), std::string::npos)
      << r.err;
}

TEST_F(CliFlags, MicrovmWithoutAGuestKernelExits125SayingWhy) {
  HULL_REQUIRE_IMAGE();
  ::setenv("HULL_KERNEL", "/nonexistent/bzImage", 1);
  auto r = run_hull({"run", "--backend", "microvm", "--", "true"});
  ::unsetenv("HULL_KERNEL");
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("HULL_KERNEL"), std::string::npos) << r.err;
}

TEST_F(CliFlags, BadMemoryAndTimeoutValuesExit125) {
  EXPECT_EQ(run_hull({"run", "--memory", "lots", "--", "true"}).exit_code, 125);
  EXPECT_EQ(run_hull({"run", "--timeout", "5 parsecs", "--", "true"}).exit_code, 125);
}

TEST_F(CliFlags, MissingCommandExits125) {
  auto r = run_hull({"run"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("no command"), std::string::npos) << r.err;
}

TEST_F(CliFlags, EveryCommandHasHelpWithAnExample) {
  for (std::string cmd : {"run", "exec", "ls", "inspect", "stop", "rm", "cp", "logs", "doctor"}) {
    auto r = run_hull({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("Example: hull " + cmd), std::string::npos) << cmd << ": " << r.out;
  }
}

TEST_F(CliFlags, LsOfAnEmptyHomeIsAnEmptyJsonArray) {
  auto r = run_hull({"ls", "--json"});
  EXPECT_EQ(r.exit_code, 0);
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_array()) << r.out;
  EXPECT_TRUE(j.empty());
}

TEST_F(CliFlags, CommandsOnAMissingSandboxExit125) {
  for (std::vector<std::string> args : {std::vector<std::string>{"exec", "nope", "--", "true"},
                                        {"inspect", "nope"}, {"stop", "nope"}, {"rm", "nope"},
                                        {"logs", "nope"}, {"cp", "nope:/etc/hostname", "-"}}) {
    auto r = run_hull(args);
    EXPECT_EQ(r.exit_code, 125) << args[0];
    EXPECT_NE(r.err.find("no sandbox named 'nope'"), std::string::npos) << args[0] << ": " << r.err;
  }
}

TEST_F(CliFlags, CpNeedsExactlyOneSandboxSide) {
  EXPECT_EQ(run_hull({"cp", "/etc/hostname", "/tmp/x"}).exit_code, 125);
  EXPECT_EQ(run_hull({"cp", "a:/x", "b:/y"}).exit_code, 125);
}

TEST_F(CliFlags, DoctorJsonReportsBackendsHonestly) {
  auto r = run_hull({"doctor", "--json"});
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out << r.err;
  bool vm_ok = true;
  for (const auto& p : j["backends"]["microvm"]["probes"]) vm_ok = vm_ok && p["ok"].get<bool>();
  EXPECT_EQ(j["backends"]["microvm"]["usable"], vm_ok);
  const auto& vm = j["backends"]["microvm"];
  const std::string tier = vm.value("tier", ""), reason = vm.value("reason", "");
  EXPECT_TRUE(tier == "microvm-tcg" || tier == "microvm-kvm") << tier;
  EXPECT_FALSE(reason.empty());
  if (vm_ok) {
    // The accelerator's story, from the KVM probe: "kvm: ... -> tcg|kvm".
    EXPECT_EQ(reason.rfind("kvm: ", 0), 0u) << reason;
    EXPECT_NE(reason.find(tier == "microvm-kvm" ? "-> kvm" : "-> tcg"), std::string::npos) << reason;
  }
  EXPECT_TRUE(j["backends"]["namespace"].contains("probes"));
  EXPECT_FALSE(j["backends"]["namespace"].value("reason", "").empty());
  EXPECT_EQ(j["auto"], vm_ok ? "microvm" : "namespace");
  EXPECT_EQ(r.exit_code, j["backends"]["namespace"]["usable"].get<bool>() ? 0 : 1);
}

}  // namespace
}  // namespace hull::testing
