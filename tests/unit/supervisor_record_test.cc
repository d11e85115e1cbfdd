// spec.json / state.json: what the CLI writes must read back identically,
// state writes are atomic, and status names are a closed set.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "base/sys.h"
#include "base/temp_dir.h"
#include "supervisor/sandbox_record.h"

namespace hull::supervisor {
namespace {

TempDir make_tmp() {
  auto t = TempDir::create(std::filesystem::temp_directory_path().string(), "sup-rec-");
  if (!t) ADD_FAILURE() << t.error().message();
  return std::move(t).value();
}

SandboxSpec sample_spec() {
  SandboxSpec s;
  s.name = "box-1";
  s.backend = backend::BackendKind::kNamespace;
  s.rootfs = "/var/cache/hull/rootfs/abc";
  s.image = "debian:12";
  s.workspace = "/home/me/proj";
  s.workspace_ro = true;
  s.command = {"sh", "-c", "echo \"hi\"; exit 7"};
  s.env = {"A=1", "B=two words"};
  s.workdir = "/workspace";
  s.tty = true;
  s.detach = true;
  s.remove_on_exit = true;
  s.timeout_ms = 1500;
  s.limits.cpus = 1.5;
  s.limits.memory_bytes = 512ull << 20;
  s.limits.pids = 99;
  s.created_at = "2024-05-01T10:00:00Z";
  return s;
}

TEST(SupervisorRecord, SpecRoundTripsEveryField) {
  auto dir = make_tmp();
  SandboxSpec in = sample_spec();
  ASSERT_TRUE(write_spec(dir.path(), in).ok());
  auto out = read_spec(dir.path());
  ASSERT_TRUE(out.ok()) << out.error().message();
  EXPECT_EQ(out->name, in.name);
  EXPECT_EQ(out->backend, in.backend);
  EXPECT_EQ(out->rootfs, in.rootfs);
  EXPECT_EQ(out->image, in.image);
  EXPECT_EQ(out->workspace, in.workspace);
  EXPECT_EQ(out->workspace_ro, in.workspace_ro);
  EXPECT_EQ(out->command, in.command);
  EXPECT_EQ(out->env, in.env);
  EXPECT_EQ(out->workdir, in.workdir);
  EXPECT_EQ(out->tty, in.tty);
  EXPECT_EQ(out->detach, in.detach);
  EXPECT_EQ(out->remove_on_exit, in.remove_on_exit);
  EXPECT_EQ(out->timeout_ms, in.timeout_ms);
  EXPECT_DOUBLE_EQ(out->limits.cpus, in.limits.cpus);
  EXPECT_EQ(out->limits.memory_bytes, in.limits.memory_bytes);
  EXPECT_EQ(out->limits.pids, in.limits.pids);
  EXPECT_EQ(out->created_at, in.created_at);
}

TEST(SupervisorRecord, StateRoundTripsEveryFieldAndKeepsLimitOrder) {
  auto dir = make_tmp();
  SandboxState in;
  in.status = SandboxStatus::kExited;
  in.supervisor_pid = 4242;
  in.boundary_pid = 4343;
  in.tier = "namespace";
  in.socket = "/run/hull/box-1.sock";
  in.exit_code = 7;
  in.error = "something";
  in.started_at = "2024-05-01T10:00:00Z";
  in.finished_at = "2024-05-01T10:00:09Z";
  in.limits_report = {{"memory", "cgroup-v2 512M"}, {"cpu", "none"}, {"landlock", "abi 3"}};
  ASSERT_TRUE(write_state(dir.path(), in).ok());
  auto out = read_state(dir.path());
  ASSERT_TRUE(out.ok()) << out.error().message();
  EXPECT_EQ(out->status, in.status);
  EXPECT_EQ(out->supervisor_pid, in.supervisor_pid);
  EXPECT_EQ(out->boundary_pid, in.boundary_pid);
  EXPECT_EQ(out->tier, in.tier);
  EXPECT_EQ(out->socket, in.socket);
  EXPECT_EQ(out->exit_code, in.exit_code);
  EXPECT_EQ(out->error, in.error);
  EXPECT_EQ(out->started_at, in.started_at);
  EXPECT_EQ(out->finished_at, in.finished_at);
  EXPECT_EQ(out->limits_report, in.limits_report);
}

TEST(SupervisorRecord, MissingExitCodeStaysAbsent) {
  auto dir = make_tmp();
  SandboxState in;
  in.status = SandboxStatus::kRunning;
  ASSERT_TRUE(write_state(dir.path(), in).ok());
  auto out = read_state(dir.path());
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->exit_code.has_value());
  EXPECT_NE(state_to_json(in).find("\"exit_code\": null"), std::string::npos);
}

TEST(SupervisorRecord, StateWriteReplacesAtomicallyAndLeavesNoTempFile) {
  auto dir = make_tmp();
  SandboxState a;
  a.status = SandboxStatus::kBooting;
  ASSERT_TRUE(write_state(dir.path(), a).ok());
  struct stat before {};
  ASSERT_EQ(::stat(state_path(dir.path()).c_str(), &before), 0);
  a.status = SandboxStatus::kRunning;
  ASSERT_TRUE(write_state(dir.path(), a).ok());
  struct stat after {};
  ASSERT_EQ(::stat(state_path(dir.path()).c_str(), &after), 0);
  // rename() gives the path a new inode; an in-place rewrite would keep it.
  EXPECT_NE(before.st_ino, after.st_ino);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    EXPECT_EQ(e.path().filename(), "state.json");
  }
  EXPECT_EQ(files, 1);
  EXPECT_EQ(read_state(dir.path())->status, SandboxStatus::kRunning);
}

TEST(SupervisorRecord, StatusNamesParseBackAndUnknownIsAnError) {
  for (auto s : {SandboxStatus::kCreating, SandboxStatus::kBooting, SandboxStatus::kRunning,
                 SandboxStatus::kStopping, SandboxStatus::kExited, SandboxStatus::kFailed}) {
    auto p = parse_status(status_name(s));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, s);
  }
  EXPECT_STREQ(status_name(SandboxStatus::kRunning), "running");
  EXPECT_FALSE(parse_status("dead").ok());
  EXPECT_FALSE(parse_status("").ok());
}

TEST(SupervisorRecord, CorruptOrWronglyTypedStateIsAnErrorNamingTheFile) {
  auto dir = make_tmp();
  ASSERT_TRUE(sys::write_file_atomic(state_path(dir.path()), "{\"status\": 3}").ok());
  auto r = read_state(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("state.json"), std::string::npos);
  ASSERT_TRUE(sys::write_file_atomic(state_path(dir.path()), "{not json").ok());
  EXPECT_FALSE(read_state(dir.path()).ok());
  ASSERT_TRUE(sys::write_file_atomic(state_path(dir.path()), "{\"status\": \"zombie\"}").ok());
  EXPECT_FALSE(read_state(dir.path()).ok());
}

TEST(SupervisorRecord, NowIsRfc3339Utc) {
  std::string t = now_rfc3339();
  ASSERT_EQ(t.size(), 20u) << t;
  EXPECT_EQ(t[4], '-');
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t.back(), 'Z');
}

// The image's services and health check travel through spec.json; their
// live state through state.json.
TEST(SupervisorRecord, ServicesAndHealthRoundTrip) {
  auto dir = make_tmp();
  SandboxSpec in = sample_spec();
  in.services = {{"web", {"python3", "-m", "http.server"}, image::RestartPolicy::kAlways},
                 {"worker-2", {"sh", "-c", "work"}, image::RestartPolicy::kOnFailure}};
  in.healthcheck = image::HealthCheck{{"curl", "-f", "localhost"}, 250, 100, 2};
  ASSERT_TRUE(write_spec(dir.path(), in).ok());
  auto out = read_spec(dir.path());
  ASSERT_TRUE(out.ok()) << out.error().message();
  ASSERT_EQ(out->services.size(), 2u);
  EXPECT_EQ(out->services[1].name, "worker-2");
  EXPECT_EQ(out->services[1].cmd, in.services[1].cmd);
  EXPECT_EQ(out->services[0].restart, image::RestartPolicy::kAlways);
  EXPECT_EQ(out->services[1].restart, image::RestartPolicy::kOnFailure);
  ASSERT_TRUE(out->healthcheck.has_value());
  EXPECT_EQ(out->healthcheck->cmd, in.healthcheck->cmd);
  EXPECT_EQ(out->healthcheck->interval_ms, 250u);
  EXPECT_EQ(out->healthcheck->timeout_ms, 100u);
  EXPECT_EQ(out->healthcheck->retries, 2u);

  SandboxState st;
  st.status = SandboxStatus::kRunning;
  st.services = {{"web", "restarting", 3, 1}, {"worker-2", "running", 0, std::nullopt}};
  st.health = "unhealthy";
  st.health_failures = 2;
  st.health_output = "status 1: nope";
  ASSERT_TRUE(write_state(dir.path(), st).ok());
  auto back = read_state(dir.path());
  ASSERT_TRUE(back.ok()) << back.error().message();
  ASSERT_EQ(back->services.size(), 2u);
  EXPECT_EQ(back->services[0].status, "restarting");
  EXPECT_EQ(back->services[0].restarts, 3u);
  EXPECT_EQ(back->services[0].exit_code, 1);
  EXPECT_FALSE(back->services[1].exit_code.has_value());
  EXPECT_EQ(back->health, "unhealthy");
  EXPECT_EQ(back->health_failures, 2u);
  EXPECT_EQ(back->health_output, "status 1: nope");
}

// A service name becomes a log file name: one that could climb out of the
// sandbox directory is refused when the spec is read.
TEST(SupervisorRecord, AServiceNameThatIsNotAPlainWordIsRefused) {
  for (const char* bad : {"../state", "a/b", "", "-x", "Web"}) {
    auto dir = make_tmp();
    SandboxSpec in = sample_spec();
    in.services = {{bad, {"true"}, image::RestartPolicy::kNo}};
    ASSERT_TRUE(write_spec(dir.path(), in).ok());
    auto out = read_spec(dir.path());
    EXPECT_FALSE(out.ok()) << "accepted service name \"" << bad << "\"";
  }
}

}  // namespace
}  // namespace hull::supervisor
