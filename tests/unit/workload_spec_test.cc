#include "image/workload_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "base/digest.h"
#include "base/sys.h"
#include "base/temp_dir.h"

namespace hull::image {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// The example in docs/hull-toml.md, kept in step with it.
constexpr std::string_view kFullExample = R"(# hull.toml — next to your code
[image]
base = "debian:bookworm"
packages = ["python3", "python3-venv", "git", "curl=7.88.1-10+deb12u5"]
workdir = "/app"
user = "1000:1000"
cmd = ["python3", "-m", "app"]

[image.env]
PYTHONUNBUFFERED = "1"
APP_ENV = "dev"

[[image.files]]
src = "requirements.txt"
dst = "/app/requirements.txt"

[[image.files]]
src = "scripts/entry.sh"
dst = "/usr/local/bin/entry"
mode = "0755"

[health]
cmd = ["curl", "-fsS", "http://127.0.0.1:8000/health"]
interval = "10s"
timeout = "2s"
retries = 5

[[service]]
name = "web"
cmd = ["python3", "-m", "app.web"]
restart = "on-failure"

[[service]]
name = "worker"
cmd = ["python3", "-m", "app.worker"]

[sandbox]
cpus = 2
memory = "2g"
disk = "8g"
pids = 512
network = "proxy"
workspace = "ro"
backend = "microvm"
)";

// Lines 1-2 of most failing cases: the smallest valid spec.
const std::string kBase = "[image]\nbase = \"debian:bookworm\"\n";

std::vector<std::string> problems(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& d : check_workload_spec(text).diagnostics) out.push_back(d.text());
  return out;
}

WorkloadSpec parsed(std::string_view text) {
  auto r = parse_workload_spec(text);
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r.ok() ? r.value() : WorkloadSpec{};
}

TEST(WorkloadSpec, FullExampleParsesIntoTypedValues) {
  WorkloadSpec s = parsed(kFullExample);
  EXPECT_EQ(s.image.base.kind, BaseKind::kDebian);
  EXPECT_EQ(s.image.base.suite, "bookworm");
  EXPECT_THAT(s.image.packages,
              ElementsAre("python3", "python3-venv", "git", "curl=7.88.1-10+deb12u5"));
  EXPECT_EQ(s.image.workdir, "/app");
  EXPECT_EQ(s.image.user, "1000:1000");
  EXPECT_THAT(s.image.cmd, ElementsAre("python3", "-m", "app"));
  EXPECT_EQ(s.image.env,
            (std::map<std::string, std::string>{{"APP_ENV", "dev"}, {"PYTHONUNBUFFERED", "1"}}));
  ASSERT_EQ(s.image.files.size(), 2u);
  EXPECT_EQ(s.image.files[0].src, "requirements.txt");
  EXPECT_EQ(s.image.files[0].dst, "/app/requirements.txt");
  EXPECT_EQ(s.image.files[0].mode, std::nullopt);
  EXPECT_EQ(s.image.files[1].mode, 0755u);
  ASSERT_TRUE(s.health.has_value());
  EXPECT_THAT(s.health->cmd, ElementsAre("curl", "-fsS", "http://127.0.0.1:8000/health"));
  EXPECT_EQ(s.health->interval_ms, 10'000u);
  EXPECT_EQ(s.health->timeout_ms, 2'000u);
  EXPECT_EQ(s.health->retries, 5u);
  ASSERT_EQ(s.services.size(), 2u);
  EXPECT_EQ(s.services[0].name, "web");
  EXPECT_EQ(s.services[0].restart, RestartPolicy::kOnFailure);
  EXPECT_EQ(s.services[1].name, "worker");
  EXPECT_EQ(s.services[1].restart, RestartPolicy::kNo);
  EXPECT_EQ(s.sandbox.cpus, 2.0);
  EXPECT_EQ(s.sandbox.memory_bytes, 2ull << 30);
  EXPECT_EQ(s.sandbox.disk_bytes, 8ull << 30);
  EXPECT_EQ(s.sandbox.pids, 512u);
  EXPECT_EQ(s.sandbox.network, NetworkMode::kProxy);
  EXPECT_EQ(s.sandbox.workspace, WorkspaceMode::kReadOnly);
  EXPECT_EQ(s.sandbox.backend, BackendChoice::kMicrovm);
}

// Golden: every value of the full example survives into the canonical form.
// A change here changes every spec digest, so it must be deliberate.
TEST(WorkloadSpec, FullExampleRoundTripsIntoThePinnedCanonicalJson) {
  const std::string want =
      R"({"health":{"cmd":["curl","-fsS","http://127.0.0.1:8000/health"],"interval_ms":10000,)"
      R"("retries":5,"timeout_ms":2000},"image":{"base":{"kind":"debian","suite":"bookworm"},)"
      R"("cmd":["python3","-m","app"],"env":{"APP_ENV":"dev","PYTHONUNBUFFERED":"1"},)"
      R"("files":[{"dst":"/app/requirements.txt","mode":null,"src":"requirements.txt"},)"
      R"({"dst":"/usr/local/bin/entry","mode":"0755","src":"scripts/entry.sh"}],)"
      R"("packages":["curl=7.88.1-10+deb12u5","git","python3","python3-venv"],"user":"1000:1000",)"
      R"("workdir":"/app"},"sandbox":{"backend":"microvm","cpus":2.0,"disk_bytes":8589934592,)"
      R"("memory_bytes":2147483648,"network":"proxy","pids":512,"workspace":"ro"},)"
      R"("services":[{"cmd":["python3","-m","app.web"],"name":"web","restart":"on-failure"},)"
      R"({"cmd":["python3","-m","app.worker"],"name":"worker","restart":"no"}],"version":1,)"
      R"("what":"hull-workload-spec"})";
  WorkloadSpec s = parsed(kFullExample);
  EXPECT_EQ(canonical_json(s), want);
  EXPECT_EQ(spec_digest(s), sha256_hex(want));
  EXPECT_EQ(spec_digest(s).size(), 64u);
}

TEST(WorkloadSpec, MinimalSpecGetsEveryDefault) {
  WorkloadSpec s = parsed(kBase);
  EXPECT_TRUE(s.image.packages.empty());
  EXPECT_TRUE(s.image.files.empty());
  EXPECT_TRUE(s.image.env.empty());
  EXPECT_EQ(s.image.workdir, "/");
  EXPECT_EQ(s.image.user, "root");
  EXPECT_TRUE(s.image.cmd.empty());
  EXPECT_FALSE(s.health.has_value());
  EXPECT_TRUE(s.services.empty());
  EXPECT_EQ(s.sandbox.cpus, std::nullopt);
  EXPECT_EQ(s.sandbox.memory_bytes, std::nullopt);
  EXPECT_EQ(s.sandbox.disk_bytes, std::nullopt);
  EXPECT_EQ(s.sandbox.pids, std::nullopt);
  EXPECT_EQ(s.sandbox.network, NetworkMode::kNone);
  EXPECT_EQ(s.sandbox.workspace, WorkspaceMode::kReadWrite);
  EXPECT_EQ(s.sandbox.backend, BackendChoice::kAuto);
  EXPECT_EQ(canonical_json(s),
            R"({"health":null,"image":{"base":{"kind":"debian","suite":"bookworm"},"cmd":[],)"
            R"("env":{},"files":[],"packages":[],"user":"root","workdir":"/"},)"
            R"("sandbox":{"backend":"auto","cpus":null,"disk_bytes":null,"memory_bytes":null,)"
            R"("network":"none","pids":null,"workspace":"rw"},"services":[],"version":1,)"
            R"("what":"hull-workload-spec"})");
}

TEST(WorkloadSpec, HealthAndServiceDefaultsAreFilledIn) {
  WorkloadSpec s =
      parsed(kBase + "[health]\ncmd = [\"true\"]\n[[service]]\nname = \"a\"\ncmd = [\"x\"]\n");
  ASSERT_TRUE(s.health.has_value());
  EXPECT_EQ(s.health->interval_ms, 30'000u);
  EXPECT_EQ(s.health->timeout_ms, 5'000u);
  EXPECT_EQ(s.health->retries, 3u);
  ASSERT_EQ(s.services.size(), 1u);
  EXPECT_EQ(s.services[0].restart, RestartPolicy::kNo);
}

TEST(WorkloadSpec, EveryBaseKindParsesIntoItsParts) {
  WorkloadSpec d = parsed("[image]\nbase = \"debian:trixie\"\n");
  EXPECT_EQ(d.image.base.kind, BaseKind::kDebian);
  EXPECT_EQ(d.image.base.suite, "trixie");
  WorkloadSpec n = parsed("[image]\nbase = \"nix:github:me/app#packages.x86_64-linux.default\"\n");
  EXPECT_EQ(n.image.base.kind, BaseKind::kNix);
  EXPECT_EQ(n.image.base.flake_ref, "github:me/app");
  EXPECT_EQ(n.image.base.attr, "packages.x86_64-linux.default");
  for (const char* ref :
       {"python", "python:3.12-slim", "ghcr.io/me/app:v1", "docker.io/library/debian",
        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}) {
    WorkloadSpec o = parsed("[image]\nbase = \"oci:" + std::string(ref) + "\"\n");
    EXPECT_EQ(o.image.base.kind, BaseKind::kOci) << ref;
    EXPECT_EQ(o.image.base.ref, ref);
  }
  const std::string pinned = "localhost:5000/me/app:1.0@sha256:" + std::string(64, 'c');
  EXPECT_EQ(parsed("[image]\nbase = \"oci:" + pinned + "\"\n").image.base.ref, pinned);
}

TEST(WorkloadSpec, SizesDurationsAndUsersAreNormalised) {
  WorkloadSpec s = parsed(kBase +
                          "user = \"01000:0050\"\nworkdir = \"//srv/./app/\"\n"
                          "[[image.files]]\nsrc = \"./conf//a.toml\"\ndst = \"/etc//a.toml/\"\n"
                          "mode = \"644\"\n"
                          "[health]\ncmd = [\"true\"]\ninterval = \"1.5m\"\ntimeout = \"250ms\"\n"
                          "[sandbox]\ncpus = 0.5\nmemory = \"512M\"\ndisk = \"1.5GiB\"\n");
  EXPECT_EQ(s.image.user, "1000:50");
  EXPECT_EQ(s.image.workdir, "/srv/app");
  ASSERT_EQ(s.image.files.size(), 1u);
  EXPECT_EQ(s.image.files[0].src, "conf/a.toml");
  EXPECT_EQ(s.image.files[0].dst, "/etc/a.toml");
  EXPECT_EQ(s.image.files[0].mode, 0644u);
  EXPECT_EQ(s.health->interval_ms, 90'000u);
  EXPECT_EQ(s.health->timeout_ms, 250u);
  EXPECT_EQ(s.sandbox.cpus, 0.5);
  EXPECT_EQ(s.sandbox.memory_bytes, 512ull << 20);
  EXPECT_EQ(s.sandbox.disk_bytes, 3ull << 29);
}

// One rule, one failing input, the exact line:column and message.
struct RuleCase {
  const char* rule;
  std::string text;
  std::string want;
};

TEST(WorkloadSpec, EachRuleRejectsItsViolationAtTheExactPosition) {
  const std::string P = kBase;  // lines 1-2
  const std::vector<RuleCase> cases = {
      {"image is required", "[sandbox]\n", "hull.toml:1:1: missing required table [image]"},
      {"image is a table", "image = 3\n",
       "hull.toml:1:9: image must be a table ([image]), not an integer"},
      {"base is required", "[image]\nworkdir = \"/\"\n",
       "hull.toml:1:1: missing required key \"base\" in [image]"},
      {"base is a string", "[image]\nbase = 12\n",
       "hull.toml:2:8: image.base must be a string, not an integer"},
      {"base has a known scheme", "[image]\nbase = \"ubuntu:24.04\"\n",
       "hull.toml:2:8: image.base \"ubuntu:24.04\" must be \"debian:<suite>\", "
       "\"nix:<flake-ref>#<attr>\" or \"oci:<ref>\""},
      {"debian suite is supported", "[image]\nbase = \"debian:sid\"\n",
       "hull.toml:2:8: image.base: debian suite \"sid\" is not supported (use \"debian:bookworm\" "
       "or \"debian:trixie\")"},
      {"nix base names an attribute", "[image]\nbase = \"nix:github:me/app\"\n",
       "hull.toml:2:8: image.base \"nix:github:me/app\" must be \"nix:<flake-ref>#<attr>\""},
      {"oci ref is well formed", "[image]\nbase = \"oci:Python\"\n",
       "hull.toml:2:8: image.base \"oci:Python\": not an OCI reference "
       "(\"oci:name[:tag][@sha256:<hex>]\" or \"oci:sha256:<hex>\", lower-case name)"},
      {"packages is an array", P + "packages = \"git\"\n",
       "hull.toml:3:12: image.packages must be an array, not a string"},
      {"package names are Debian's", P + "packages = [\"Curl\"]\n",
       "hull.toml:3:13: image.packages[0] \"Curl\" is not a Debian package name (at least 2 of "
       "a-z 0-9 + . -, starting with a letter or digit)"},
      {"package versions are Debian's", P + "packages = [\"curl=latest\"]\n",
       "hull.toml:3:13: image.packages[0] \"curl=latest\": \"latest\" is not a Debian version "
       "(e.g. \"7.88.1-10+deb12u5\")"},
      {"packages are strings", P + "packages = [\"git\", 7]\n",
       "hull.toml:3:20: image.packages[1] must be a string, not an integer"},
      {"packages are unique", P + "packages = [\"git\", \"git=1:2.39.2-1.1\"]\n",
       "hull.toml:3:20: image.packages[1]: duplicate package \"git\" (first listed at 3:13)"},
      {"files are tables", P + "files = [\"a\"]\n",
       "hull.toml:3:10: image.files[0] must be a table {src, dst, mode}, not a string"},
      {"files.src is relative", P + "[[image.files]]\nsrc = \"/etc/passwd\"\ndst = \"/x\"\n",
       "hull.toml:4:7: image.files[0].src \"/etc/passwd\" must be a relative path inside the "
       "project directory"},
      {"files.src is required", P + "[[image.files]]\ndst = \"/x\"\n",
       "hull.toml:3:1: missing required key \"src\" in image.files[0]"},
      {"files.dst is absolute", P + "[[image.files]]\nsrc = \"a\"\ndst = \"x\"\n",
       "hull.toml:5:7: image.files[0].dst \"x\" must be an absolute path"},
      {"files.dst stays in the image",
       P + "[[image.files]]\nsrc = \"a\"\ndst = \"/app/../../etc\"\n",
       "hull.toml:5:7: image.files[0].dst \"/app/../../etc\" must not contain \"..\""},
      {"files.dst is required", P + "[[image.files]]\nsrc = \"a\"\n",
       "hull.toml:3:1: missing required key \"dst\" in image.files[0]"},
      {"files.dst is unique",
       P + "[[image.files]]\nsrc = \"a\"\ndst = \"/x\"\n[[image.files]]\nsrc = \"b\"\ndst = "
           "\"//x/\"\n",
       "hull.toml:8:7: image.files[1].dst \"/x\" is already the destination of image.files[0]"},
      {"files.mode is a string", P + "[[image.files]]\nsrc = \"a\"\ndst = \"/a\"\nmode = 0o644\n",
       "hull.toml:6:8: image.files[0].mode must be an octal string like \"0644\", not an integer"},
      {"files.mode is octal", P + "[[image.files]]\nsrc = \"a\"\ndst = \"/a\"\nmode = \"0999\"\n",
       "hull.toml:6:8: image.files[0].mode \"0999\" must be 3 or 4 octal digits, e.g. \"0644\""},
      {"env names are identifiers", P + "[image.env]\n1BAD = \"x\"\n",
       "hull.toml:4:1: image.env: \"1BAD\" is not an environment variable name "
       "([A-Za-z_][A-Za-z0-9_]*)"},
      {"env values are strings", P + "[image.env]\nN = 3\n",
       "hull.toml:4:5: image.env.N must be a string, not an integer"},
      {"env is a table", P + "env = [\"A=b\"]\n",
       "hull.toml:3:7: image.env must be a table, not an array"},
      {"workdir is absolute", P + "workdir = \"app\"\n",
       "hull.toml:3:11: image.workdir \"app\" must be an absolute path"},
      {"user is a name or uid[:gid]", P + "user = \"Root\"\n",
       "hull.toml:3:8: image.user \"Root\" must be a user name ([a-z_][a-z0-9_-]*) or \"uid\" or "
       "\"uid:gid\""},
      {"cmd is not empty", P + "cmd = []\n", "hull.toml:3:7: image.cmd must not be empty"},
      {"cmd holds strings", P + "cmd = [\"ls\", 1]\n",
       "hull.toml:3:14: image.cmd[1] must be a string, not an integer"},
      {"cmd names a program", P + "cmd = [\"\", \"x\"]\n",
       "hull.toml:3:8: image.cmd[0] (the program) must not be empty"},
      {"strings hold no NUL", P + "workdir = \"/a\\u0000b\"\n",
       "hull.toml:3:11: image.workdir must not contain a NUL character"},
      {"health.cmd is required", P + "[health]\ninterval = \"10s\"\n",
       "hull.toml:3:1: missing required key \"cmd\" in [health]"},
      {"health.interval has a unit", P + "[health]\ncmd = [\"true\"]\ninterval = \"10\"\n",
       "hull.toml:5:12: health.interval \"10\" is not a duration (a number with ms, s, m or h, "
       "e.g. \"10s\")"},
      {"health.timeout is a string", P + "[health]\ncmd = [\"true\"]\ntimeout = 5\n",
       "hull.toml:5:11: health.timeout must be a duration string like \"10s\", not an integer"},
      {"health.retries is at least 1", P + "[health]\ncmd = [\"true\"]\nretries = 0\n",
       "hull.toml:5:11: health.retries must be between 1 and 1000 (got 0)"},
      {"health.retries is an integer", P + "[health]\ncmd = [\"true\"]\nretries = 3.0\n",
       "hull.toml:5:11: health.retries must be an integer, not a float"},
      {"service is an array of tables", P + "[service]\nname = \"web\"\n",
       "hull.toml:3:1: service must be an array of tables ([[service]]), not a table"},
      {"service names are lower-case", P + "[[service]]\nname = \"Web\"\ncmd = [\"x\"]\n",
       "hull.toml:4:8: service[0].name \"Web\" must be 1-63 of a-z 0-9 -, starting with a letter "
       "or digit"},
      {"service names are unique",
       P + "[[service]]\nname = \"web\"\ncmd = [\"x\"]\n[[service]]\nname = \"web\"\ncmd = "
           "[\"y\"]\n",
       "hull.toml:7:8: service[1].name: duplicate service \"web\" (first at 4:8)"},
      {"service.cmd is required", P + "[[service]]\nname = \"web\"\n",
       "hull.toml:3:1: missing required key \"cmd\" in service[0]"},
      {"service.restart is a known policy",
       P + "[[service]]\nname = \"web\"\ncmd = [\"x\"]\nrestart = \"sometimes\"\n",
       "hull.toml:6:11: service[0].restart must be one of \"no\", \"on-failure\", \"always\" "
       "(got \"sometimes\")"},
      {"sandbox is a table", "sandbox = 3\n" + P,
       "hull.toml:1:11: sandbox must be a table ([sandbox]), not an integer"},
      {"sandbox.cpus is positive", P + "[sandbox]\ncpus = 0\n",
       "hull.toml:4:8: sandbox.cpus must be above 0 and at most 1024"},
      {"sandbox.cpus is finite", P + "[sandbox]\ncpus = nan\n",
       "hull.toml:4:8: sandbox.cpus must be above 0 and at most 1024"},
      {"sandbox.cpus is a number", P + "[sandbox]\ncpus = \"2\"\n",
       "hull.toml:4:8: sandbox.cpus must be a number, not a string"},
      {"sandbox.memory is a size", P + "[sandbox]\nmemory = \"lots\"\n",
       "hull.toml:4:10: sandbox.memory \"lots\" is not a size (a number with k, m, g or t, e.g. "
       "\"512m\")"},
      {"sandbox.disk is a size string", P + "[sandbox]\ndisk = 10\n",
       "hull.toml:4:8: sandbox.disk must be a size string like \"512m\" or \"2g\", not an integer"},
      {"sandbox.pids is positive", P + "[sandbox]\npids = 0\n",
       "hull.toml:4:8: sandbox.pids must be between 1 and 4194304 (got 0)"},
      {"sandbox.network is a known mode", P + "[sandbox]\nnetwork = \"host\"\n",
       "hull.toml:4:11: sandbox.network must be one of \"none\", \"proxy\" (got \"host\")"},
      {"sandbox.workspace is a known mode", P + "[sandbox]\nworkspace = \"rwx\"\n",
       "hull.toml:4:13: sandbox.workspace must be one of \"rw\", \"ro\", \"none\" (got \"rwx\")"},
      {"sandbox.backend is a known backend", P + "[sandbox]\nbackend = \"kvm\"\n",
       "hull.toml:4:11: sandbox.backend must be one of \"auto\", \"microvm\", \"namespace\" "
       "(got \"kvm\")"},
  };
  for (const auto& c : cases) EXPECT_THAT(problems(c.text), ElementsAre(c.want)) << c.rule;
}

TEST(WorkloadSpec, UnknownKeyIsAnErrorWithTheClosestKnownKey) {
  EXPECT_THAT(problems(kBase + "  pakages = [\"curl\"]\n"),
              ElementsAre("hull.toml:3:3: unknown key \"pakages\" in [image] (did you mean "
                          "\"packages\"?)"));
  EXPECT_THAT(problems("[imgae]\n" + kBase),
              ElementsAre("hull.toml:1:2: unknown key \"imgae\" at the top level (did you mean "
                          "\"image\"?)"));
  EXPECT_THAT(problems(kBase + "[[image.files]]\nsrc = \"a\"\ndst = \"/a\"\nmdoe = \"0644\"\n"),
              ElementsAre("hull.toml:6:1: unknown key \"mdoe\" in image.files[0] (did you mean "
                          "\"mode\"?)"));
  EXPECT_THAT(problems(kBase + "[sandbox]\nCPUs = 2\n"),
              ElementsAre("hull.toml:4:1: unknown key \"CPUs\" in [sandbox] (did you mean "
                          "\"cpus\"?)"));
  // More than two edits away: no guess.
  EXPECT_THAT(problems(kBase + "colour = \"blue\"\n"),
              ElementsAre("hull.toml:3:1: unknown key \"colour\" in [image]"));
  // Unknown keys are errors however deep: inside an inline table too.
  EXPECT_THAT(problems(kBase + "[health]\ncmd = [\"true\"]\nextra = { a = 1 }\n"),
              ElementsAre("hull.toml:5:1: unknown key \"extra\" in [health]"));
}

TEST(WorkloadSpec, AllProblemsAreReportedTogetherInFileOrder) {
  const std::string text =
      "[sandbox]\n"                   // 1
      "network = \"host\"\n"          // 2
      "[image]\n"                     // 3
      "base = \"debian:bookworm\"\n"  // 4
      "pakages = [\"curl\"]\n"        // 5
      "workdir = \"app\"\n"           // 6
      "[[service]]\n"                 // 7
      "name = \"web\"\n"              // 8
      "cmnd = [\"x\"]\n";             // 9
  const std::vector<std::string> want = {
      "hull.toml:2:11: sandbox.network must be one of \"none\", \"proxy\" (got \"host\")",
      "hull.toml:5:1: unknown key \"pakages\" in [image] (did you mean \"packages\"?)",
      "hull.toml:6:11: image.workdir \"app\" must be an absolute path",
      "hull.toml:7:1: missing required key \"cmd\" in service[0]",
      "hull.toml:9:1: unknown key \"cmnd\" in service[0] (did you mean \"cmd\"?)",
  };
  EXPECT_EQ(problems(text), want);
  auto r = parse_workload_spec(text);
  ASSERT_FALSE(r.ok());
  std::string lines;
  for (const auto& w : want) lines += (lines.empty() ? "" : "\n") + w;
  EXPECT_EQ(r.error().message(), lines);
}

TEST(WorkloadSpec, DiagnosticsNameTheDisplayName) {
  auto c = check_workload_spec("[image]\nbase = 1\n", "proj/hull.toml");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].file, "proj/hull.toml");
  EXPECT_EQ(c.diagnostics[0].line, 2u);
  EXPECT_EQ(c.diagnostics[0].column, 8u);
  EXPECT_EQ(c.diagnostics[0].message, "image.base must be a string, not an integer");
  EXPECT_EQ(c.diagnostics[0].text(),
            "proj/hull.toml:2:8: image.base must be a string, not an integer");
}

TEST(WorkloadSpec, TomlSyntaxErrorCarriesLineAndColumn) {
  EXPECT_THAT(problems(kBase + "packages = [\"a\",\n"),
              ElementsAre(StartsWith("hull.toml:3:18: invalid TOML: ")));
  EXPECT_THAT(problems("[image]\nbase = \"debian:bookworm\n"),
              ElementsAre(StartsWith("hull.toml:2:")));
  EXPECT_THAT(problems("[image]\nbase = \"a\"\nbase = \"b\"\n"),
              ElementsAre(StartsWith("hull.toml:3:")));
}

TEST(WorkloadSpec, PackagesNeedADebianBase) {
  EXPECT_THAT(problems("[image]\nbase = \"nix:github:me/app#default\"\npackages = [\"git\"]\n"),
              ElementsAre("hull.toml:3:12: image.packages is only allowed with a debian base "
                          "(this base is nix; list packages in the nix image itself)"));
  EXPECT_THAT(problems("[image]\nbase = \"oci:python:3.12\"\npackages = []\n"),
              ElementsAre("hull.toml:3:12: image.packages is only allowed with a debian base "
                          "(this base is oci; list packages in the oci image itself)"));
}

TEST(WorkloadSpec, FilesSrcCannotLeaveTheProjectDirectory) {
  for (const char* src : {"..", "../secret", "a/../../etc/shadow", "a/..", "./../x"}) {
    auto c = check_workload_spec(kBase + "[[image.files]]\nsrc = \"" + src + "\"\ndst = \"/x\"\n");
    ASSERT_EQ(c.diagnostics.size(), 1u) << src;
    EXPECT_EQ(c.diagnostics[0].line, 4u);
    EXPECT_EQ(c.diagnostics[0].column, 7u);
    EXPECT_THAT(c.diagnostics[0].message, HasSubstr("must not contain \"..\"")) << src;
  }
  for (const char* src : {"/etc/passwd", "//etc", ""}) {
    auto c = check_workload_spec(kBase + "[[image.files]]\nsrc = \"" + src + "\"\ndst = \"/x\"\n");
    ASSERT_EQ(c.diagnostics.size(), 1u) << src;
    EXPECT_THAT(c.diagnostics[0].message, HasSubstr("must be a relative path")) << src;
  }
  // ".." inside a name is just a name.
  EXPECT_EQ(
      parsed(kBase + "[[image.files]]\nsrc = \"a..b/..c\"\ndst = \"/x\"\n").image.files[0].src,
      "a..b/..c");
}

TEST(WorkloadSpec, CanonicalJsonIsStableUnderKeyOrderWhitespaceAndSpelling) {
  const std::string a =
      "[image]\n"
      "base = \"debian:bookworm\"\n"
      "packages = [\"git\", \"curl\"]\n"
      "user = \"1000\"\n"
      "[image.env]\nB = \"2\"\nA = \"1\"\n"
      "[[image.files]]\nsrc = \"conf/a\"\ndst = \"/etc/a\"\n"
      "[[service]]\nname = \"web\"\ncmd = [\"w\"]\n"
      "[[service]]\nname = \"db\"\ncmd = [\"d\"]\nrestart = \"always\"\n"
      "[sandbox]\ncpus = 2\nmemory = \"1g\"\n";
  const std::string b =
      "# the same spec, written differently\n"
      "sandbox = { memory = \"1024m\", cpus = 2.0, network = \"none\", backend = \"auto\" }\n"
      "\n"
      "[[service]]\n  restart = \"always\"\n  cmd = [ \"d\" ]\n  name = \"db\"\n"
      "[[service]]\n  cmd = [\"w\"]\n  name = \"web\"\n  restart = \"no\"\n"
      "[image]\n"
      "  env = { A = \"1\", B = \"2\" }\n"
      "  files = [ { dst = \"/etc//a/\", src = \"./conf/a\" } ]\n"
      "  user = \"01000\"\n"
      "  workdir = \"/\"\n"
      "  packages = [\n    \"curl\",\n    \"git\",\n  ]\n"
      "  base = 'debian:bookworm'\n";
  WorkloadSpec sa = parsed(a);
  WorkloadSpec sb = parsed(b);
  EXPECT_EQ(canonical_json(sa), canonical_json(sb));
  EXPECT_EQ(spec_digest(sa), spec_digest(sb));
}

TEST(WorkloadSpec, DigestChangesWhenOnePackageChanges) {
  const std::string d0 = spec_digest(parsed(kBase + "packages = [\"git\", \"curl\"]\n"));
  const std::string d1 = spec_digest(parsed(kBase + "packages = [\"git\", \"wget\"]\n"));
  const std::string d2 = spec_digest(parsed(kBase + "packages = [\"git\", \"curl=7.88.1-10\"]\n"));
  const std::string d3 = spec_digest(parsed(kBase + "packages = [\"git\"]\n"));
  EXPECT_NE(d0, d1);
  EXPECT_NE(d0, d2);
  EXPECT_NE(d0, d3);
  EXPECT_NE(d1, d2);
}

TEST(WorkloadSpec, DigestChangesWithOrderWhereOrderMeansSomething) {
  const std::string ab = "cmd = [\"a\", \"b\"]\n";
  const std::string ba = "cmd = [\"b\", \"a\"]\n";
  EXPECT_NE(spec_digest(parsed(kBase + ab)), spec_digest(parsed(kBase + ba)));
  const std::string f1 = "[[image.files]]\nsrc = \"x\"\ndst = \"/a\"\n";
  const std::string f2 = "[[image.files]]\nsrc = \"y\"\ndst = \"/a/b\"\n";
  EXPECT_NE(spec_digest(parsed(kBase + f1 + f2)), spec_digest(parsed(kBase + f2 + f1)));
}

TEST(WorkloadSpec, HostileInputGivesAnErrorNotACrash) {
  // Table nesting deep enough to overflow toml++'s recursion: stopped by the
  // line bound before toml++ sees it.
  std::string deep = "[";
  for (int i = 0; i < 100'000; ++i) deep += "a.";
  deep += "a]\n";
  EXPECT_THAT(problems(deep), ElementsAre("hull.toml:1:4097: line is longer than 4096 bytes"));
  // As deep as the line bound allows: parsed, and rejected as unknown.
  std::string within = "[";
  for (int i = 0; i < 2000; ++i) within += "a.";
  within += "a]\n";
  EXPECT_THAT(problems(kBase + within),
              ElementsAre("hull.toml:3:2: unknown key \"a\" at the top level"));
  // Arrays nested across lines: toml++'s own depth limit.
  std::string arrays = kBase + "cmd = ";
  for (int i = 0; i < 10'000; ++i) arrays += "[\n";
  EXPECT_THAT(problems(arrays), ElementsAre(HasSubstr("invalid TOML: ")));
  // A 1 MB string, on one line and spread over lines.
  EXPECT_THAT(problems("[image]\nbase = \"" + std::string(1'000'000, 'a') + "\"\n"),
              ElementsAre("hull.toml:2:4097: line is longer than 4096 bytes"));
  std::string multi = "[image]\nbase = \"\"\"";
  for (int i = 0; i < 500'000; ++i) multi += "a\n";
  multi += "\"\"\"\n";
  EXPECT_THAT(problems(multi),
              ElementsAre("hull.toml:2:8: image.base is too long (1000000 bytes; at most 4096)"));
  // Bytes that are not UTF-8, in a value and in a key.
  EXPECT_THAT(problems("[image]\nbase = \"debian:\xff\xfe\"\n"),
              ElementsAre(StartsWith("hull.toml:2:15: invalid TOML: ")));
  EXPECT_THAT(problems("[image]\n\xc3\x28 = 1\n"), ElementsAre(HasSubstr("invalid TOML: ")));
  // Over the file bound.
  EXPECT_THAT(problems(std::string(kMaxSpecBytes + 1, '\n')),
              ElementsAre("hull.toml:1:1: file is 1048577 bytes; at most 1048576"));
  // A key made to mess with a terminal is shown escaped.
  EXPECT_THAT(problems(kBase + "\"\\u001b[2J\\r\" = 1\n"),
              ElementsAre("hull.toml:3:1: unknown key \"\\x1b[2J\\x0d\" in [image]"));
  // A long unknown key is cut in the message.
  EXPECT_THAT(problems(kBase + std::string(1000, 'k') + " = 1\n"),
              ElementsAre("hull.toml:3:1: unknown key \"" + std::string(64, 'k') +
                          "\"... (1000 bytes) in [image]"));
}

TEST(WorkloadSpec, ProblemCountIsBounded) {
  std::string text = kBase + "packages = [";
  for (int i = 0; i < 500; ++i) text += "\"X\",";
  text += "]\n";
  auto c = check_workload_spec(text);
  ASSERT_EQ(c.diagnostics.size(), kMaxDiagnostics + 1);
  EXPECT_EQ(c.diagnostics.back().message, "too many problems; 400 more not shown");
}

TEST(WorkloadSpec, ListsAreBounded) {
  std::string text = kBase + "packages = [";
  for (size_t i = 0; i <= kMaxListItems; ++i) text += "\"p" + std::to_string(i) + "\",\n";
  text += "]\n";
  EXPECT_THAT(problems(text), ElementsAre("hull.toml:3:12: image.packages has 1025 items; at "
                                          "most 1024"));
}

TEST(WorkloadSpec, LoadReadsAFileAndNamesItsPath) {
  auto dir = TempDir::create("/tmp", "hull-spec-");
  ASSERT_TRUE(dir.ok());
  const std::string good = dir->path() + "/hull.toml";
  ASSERT_TRUE(sys::write_file_atomic(good, kFullExample).ok());
  auto s = load_workload_spec(good);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(spec_digest(*s), spec_digest(parsed(kFullExample)));

  const std::string bad = dir->path() + "/bad.toml";
  ASSERT_TRUE(sys::write_file_atomic(bad, "[image]\nbase = 1\n").ok());
  auto b = load_workload_spec(bad);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().message(), bad + ":2:8: image.base must be a string, not an integer");

  EXPECT_FALSE(load_workload_spec(dir->path() + "/missing.toml").ok());
  EXPECT_THAT(load_workload_spec(dir->path()).error().message(), HasSubstr("not a regular file"));
  // A FIFO in place of the file must not block the reader.
  const std::string fifo = dir->path() + "/fifo.toml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THAT(load_workload_spec(fifo).error().message(), HasSubstr("not a regular file"));
}

TEST(WorkloadSpec, NamesOfClosedSetsMatchTheFileSpelling) {
  EXPECT_STREQ(base_kind_name(BaseKind::kNix), "nix");
  EXPECT_STREQ(restart_policy_name(RestartPolicy::kOnFailure), "on-failure");
  EXPECT_STREQ(network_mode_name(NetworkMode::kProxy), "proxy");
  EXPECT_STREQ(workspace_mode_name(WorkspaceMode::kReadOnly), "ro");
  EXPECT_STREQ(backend_choice_name(BackendChoice::kNamespace), "namespace");
}

}  // namespace
}  // namespace hull::image
