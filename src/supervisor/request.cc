// What the supervisor adds to a client's request before it reaches the
// agent: validation the agent would also do (defence in depth, and a clearer
// error for the user) and the defaults a sandbox applies (cwd, environment).
#include <string_view>

#include "supervisor/supervisor_core.h"

namespace hull::supervisor {

namespace {

constexpr const char* kDefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string_view env_key(std::string_view kv) { return kv.substr(0, kv.find('=')); }

// Later entries override earlier ones with the same key; first-seen order is
// kept so the result is deterministic.
void merge_env(std::vector<std::string>& into, const std::string& kv) {
  for (auto& e : into) {
    if (env_key(e) == env_key(kv)) {
      e = kv;
      return;
    }
  }
  into.push_back(kv);
}

Status check_path(const std::string& what, const std::string& p) {
  if (p.empty() || p[0] != '/') return make_error("refuse request", what + " must be an absolute path: \"" + p + "\"");
  if (p.find('\0') != std::string::npos) return make_error("refuse request", what + " contains NUL");
  return ok_status();
}

}  // namespace

std::vector<std::string> proxy_environment() {
  const std::string url = "http://127.0.0.1:" + std::to_string(wire::kEgressProxyPort);
  std::vector<std::string> env;
  // Tools disagree on the case they read (curl: lower-case http_proxy only;
  // Python, Go, npm: either), so both.
  for (const char* k : {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"})
    env.push_back(std::string(k) + "=" + url);
  for (const char* k : {"NO_PROXY", "no_proxy"}) env.push_back(std::string(k) + "=localhost,127.0.0.1,::1");
  env.push_back("NODE_USE_ENV_PROXY=1");  // Node 24+ reads the variables above when this is set
  return env;
}

std::vector<std::string> exec_environment(const SandboxSpec& spec, const wire::ExecRequest& req) {
  std::vector<std::string> env = {kDefaultPath, "HOME=" + (spec.home.empty() ? std::string("/root") : spec.home)};
  if (req.tty) env.push_back("TERM=xterm");
  if (spec.network.enabled)
    for (const auto& kv : proxy_environment()) env.push_back(kv);
  for (const auto& kv : spec.env) merge_env(env, kv);
  for (const auto& kv : req.env) merge_env(env, kv);
  return env;
}

Result<wire::Message> prepare_request(const SandboxSpec& spec, const wire::Message& request) {
  if (const auto* exec = std::get_if<wire::ExecRequest>(&request)) {
    wire::ExecRequest r = *exec;
    if (r.argv.empty() || r.argv[0].empty()) return make_error("refuse exec", "empty command");
    for (const auto& kv : r.env) {
      if (kv.find('=') == std::string::npos || kv.front() == '=') {
        return make_error("refuse exec", "environment entry is not KEY=VALUE: \"" + kv + "\"");
      }
    }
    if (r.cwd.empty()) r.cwd = spec.workdir.empty() ? "/" : spec.workdir;
    HULL_TRY(check_path("cwd", r.cwd));
    if (r.rows == 0) r.rows = 24;
    if (r.cols == 0) r.cols = 80;
    r.env = exec_environment(spec, r);
    return wire::Message(std::move(r));
  }
  if (const auto* file = std::get_if<wire::FileRequest>(&request)) {
    HULL_TRY(check_path("path", file->path));
    if (file->op == wire::FileOp::kRename) HULL_TRY(check_path("rename target", file->to));
    return request;
  }
  return make_error("refuse stream", std::string("a stream must be opened with exec or file, not ") +
                                         wire::message_name(request));
}

}  // namespace hull::supervisor
