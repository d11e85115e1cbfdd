#include "cli_harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace hull::testing {

namespace {

using Clock = std::chrono::steady_clock;

std::vector<char*> make_argv(std::vector<std::string>& storage) {
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return argv;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

HullResult run_hull(const std::vector<std::string>& args, const HullOptions& opts) {
  std::vector<std::string> storage{HULL_BIN};
  storage.insert(storage.end(), args.begin(), args.end());
  auto argv = make_argv(storage);
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) < 0 || ::pipe2(out, O_CLOEXEC) < 0 || ::pipe2(err, O_CLOEXEC) < 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(opts.stdin_data ? in[0] : devnull, 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execv(HULL_BIN, argv.data());
    _exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  HullResult r;
  std::string to_send = opts.stdin_data.value_or("");
  size_t sent = 0;
  int in_fd = in[1];
  if (!opts.stdin_data || to_send.empty()) {
    ::close(in_fd);
    in_fd = -1;
  } else {
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  bool out_open = true, err_open = true;
  auto deadline = Clock::now() + std::chrono::seconds(opts.timeout_s);
  std::vector<char> buf(1 << 16);
  while (out_open || err_open) {
    pollfd p[3] = {{out_open ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}, {in_fd, POLLOUT, 0}};
    int rc = ::poll(p, 3, 50);
    if (opts.on_tick) opts.on_tick();
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      break;
    }
    if (rc <= 0) continue;
    if (p[0].revents != 0) {
      ssize_t n = ::read(out[0], buf.data(), buf.size());
      if (n <= 0) out_open = false;
      else {
        r.out_bytes += static_cast<uint64_t>(n);
        if (!opts.count_only) r.out.append(buf.data(), static_cast<size_t>(n));
      }
    }
    if (p[1].revents != 0) {
      ssize_t n = ::read(err[0], buf.data(), buf.size());
      if (n <= 0) err_open = false;
      else r.err.append(buf.data(), static_cast<size_t>(n));
    }
    if (in_fd >= 0 && p[2].revents != 0) {
      ssize_t n = ::write(in_fd, to_send.data() + sent, to_send.size() - sent);
      if (n > 0) sent += static_cast<size_t>(n);
      if (n < 0 || sent == to_send.size()) {
        ::close(in_fd);
        in_fd = -1;
      }
    }
  }
  if (in_fd >= 0) ::close(in_fd);
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = Clock::now() > deadline ? -1 : decode_status(status);
  return r;
}

HullResult run_hull_in_pty(const std::vector<std::string>& args, int timeout_s) {
  std::vector<std::string> storage{HULL_BIN};
  storage.insert(storage.end(), args.begin(), args.end());
  auto argv = make_argv(storage);
  int master = -1;
  winsize ws{};
  ws.ws_row = 30;
  ws.ws_col = 100;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, &ws);
  if (pid < 0) return {};
  if (pid == 0) {
    ::execv(HULL_BIN, argv.data());
    _exit(127);
  }
  HullResult r;
  auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  char buf[4096];
  for (;;) {
    pollfd p{master, POLLIN, 0};
    int rc = ::poll(&p, 1, 100);
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      break;
    }
    if (rc <= 0) continue;
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO once the child side is closed
    r.out.append(buf, static_cast<size_t>(n));
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = Clock::now() > deadline ? -1 : decode_status(status);
  r.out_bytes = r.out.size();
  return r;
}

std::vector<int> processes_mentioning(const std::string& needle) {
  std::vector<int> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string n = e.path().filename().string();
    if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream f(e.path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    for (auto& c : cmd)
      if (c == '\0') c = ' ';
    if (cmd.find(needle) != std::string::npos && std::stoi(n) != ::getpid()) out.push_back(std::stoi(n));
  }
  return out;
}

std::vector<std::string> mounts_under(const std::string& prefix) {
  std::vector<std::string> out;
  std::ifstream f("/proc/self/mountinfo");
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream ss(line);
    std::string a, b, c, d, mp;
    ss >> a >> b >> c >> d >> mp;
    if (mp.rfind(prefix, 0) == 0) out.push_back(mp);
  }
  return out;
}

long vm_rss_kib(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

std::string cached_default_rootfs() {
  static std::optional<std::string> cached;
  if (cached) return *cached;
  auto r = run_hull({"doctor", "--json"});
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  std::string path;
  if (!j.is_discarded() && j.contains("default_image")) path = j["default_image"].value("path", "");
  cached = path;
  return path;
}

void CliTest::SetUp() {
  char tmpl[] = "/tmp/hull-cli-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  home_ = tmpl;
  ::setenv("HULL_HOME", home_.c_str(), 1);
}

void CliTest::TearDown() {
  auto all = ls_json(true);
  if (all.is_array())
    for (const auto& sb : all) run_hull({"rm", "-f", sb.value("name", "")});
  std::error_code ec;
  if (mounts_under(home_).empty()) std::filesystem::remove_all(home_, ec);
  ::unsetenv("HULL_HOME");
}

std::string CliTest::backend_under_test() {
  const char* b = std::getenv("HULL_BACKEND");
  return b != nullptr && std::string(b) == "microvm" ? "microvm" : "namespace";
}

// Whether `hull doctor --json` calls `backend` usable (asked once per backend).
bool CliTest::backend_usable(const std::string& backend) {
  static std::map<std::string, bool> cached;
  if (auto it = cached.find(backend); it != cached.end()) return it->second;
  auto r = run_hull({"doctor", "--json"});
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  return cached[backend] = !j.is_discarded() && j["backends"][backend].value("usable", false);
}

bool CliTest::have_microvm() {
  if (!have_image()) return false;
  if (!backend_usable("microvm")) {
    skip_reason_ = "the microvm backend is not usable here (see hull doctor)";
    return false;
  }
  return true;
}

bool CliTest::have_image() {
  rootfs_ = cached_default_rootfs();
  if (rootfs_.empty()) {
    skip_reason_ = "default image not built; run `hull image prepare-default` first";
    return false;
  }
  if (!backend_usable(backend_under_test())) {
    skip_reason_ = "the " + backend_under_test() + " backend is not usable here (see hull doctor)";
    return false;
  }
  return true;
}

nlohmann::json CliTest::wait_until_final(const std::string& name, int timeout_s) {
  const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  while (Clock::now() < deadline) {
    for (const auto& e : ls_json(true)) {
      if (e.value("name", "") != name) continue;
      const std::string st = e.value("status", "");
      if (st == "exited" || st == "failed") return e;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return nullptr;
}

nlohmann::json CliTest::ls_json(bool all) {
  auto r = run_hull(all ? std::vector<std::string>{"ls", "--json", "-a"} : std::vector<std::string>{"ls", "--json"});
  return nlohmann::json::parse(r.out, nullptr, false);
}

nlohmann::json CliTest::inspect_json(const std::string& name) {
  auto r = run_hull({"inspect", "--json", name});
  return nlohmann::json::parse(r.out, nullptr, false);
}

}  // namespace hull::testing
