#include "base/paths.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "base/private_dir.h"

namespace hull::paths {

namespace {
std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? std::string(v) : fallback;
}
std::string home() { return env_or("HOME", "/root"); }
bool is_root() { return ::geteuid() == 0; }
std::string hull_home() { return env_or("HULL_HOME", ""); }
}  // namespace

std::string data_dir() {
  if (auto h = hull_home(); !h.empty()) return h + "/data";
  if (is_root()) return "/var/lib/hull";
  return env_or("XDG_DATA_HOME", home() + "/.local/share") + "/hull";
}

std::string state_dir() {
  if (auto h = hull_home(); !h.empty()) return h + "/state";
  if (is_root()) return "/var/log/hull";
  return env_or("XDG_STATE_HOME", home() + "/.local/state") + "/hull";
}

std::string runtime_dir() {
  if (auto h = hull_home(); !h.empty()) return h + "/run";
  if (is_root()) return "/run/hull";
  return env_or("XDG_RUNTIME_DIR", "/tmp/hull-" + std::to_string(::getuid())) + "/hull";
}

Result<std::string> prepare_runtime_dir() {
  const std::string rt = runtime_dir();
  auto dir = open_private_dir(rt, Missing::kCreate);
  if (dir) return rt;
  const std::string uid = std::to_string(::geteuid());
  std::string next;
  if (!hull_home().empty()) {
    next = "point HULL_HOME at a directory only you can write";
  } else if (is_root()) {
    next = "make " + rt + " and the directories above it root's, and writable by no one else";
  } else if (env_or("XDG_RUNTIME_DIR", "").empty()) {
    next = "set XDG_RUNTIME_DIR to a directory only you can write (e.g. /run/user/" + uid + "), or have /tmp/hull-" +
           uid + " removed";
  } else {
    next = "set XDG_RUNTIME_DIR to a directory only you can write";
  }
  return make_error("runtime directory " + rt + " is not safe: " + dir.error().message() +
                        " (another user could pose as a sandbox's supervisor there)",
                    next);
}

std::string cache_dir() {
  if (auto c = env_or("HULL_CACHE", ""); !c.empty()) return c;
  if (is_root()) return "/var/cache/hull";
  return env_or("XDG_CACHE_HOME", home() + "/.cache") + "/hull";
}

std::string sandboxes_dir() { return state_dir() + "/sandboxes"; }
std::string sandbox_dir(const std::string& name) { return sandboxes_dir() + "/" + name; }

bool valid_sandbox_name(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name[0])) return false;
  for (char c : name)
    if (!alnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

std::string self_exe_dir() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return ".";
  return p.parent_path().string();
}

std::string sibling_program(const std::string& name, const std::string& build_subdir, const char* env_override) {
  if (const char* e = std::getenv(env_override); e != nullptr && *e != '\0') return e;
  const std::string dir = self_exe_dir();
  for (const std::string& p : {dir + "/" + name, dir + "/../" + build_subdir + "/" + name})
    if (::access(p.c_str(), X_OK) == 0) return std::filesystem::weakly_canonical(p).string();
  return dir + "/" + name;
}

}  // namespace hull::paths
