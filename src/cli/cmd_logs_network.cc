// `hull logs --network NAME [-f] [--json]`: the sandbox's network events
// (network.log: one JSON object per line, written by its supervisor from
// what the egress process reported). --json prints the lines as they are;
// otherwise one readable line per attempt. Host names and client names in
// them came from the sandbox: the readable form goes through the terminal
// filter (base/terminal_text.h) like every other sandbox-written text.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/sys.h"
#include "base/terminal_text.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/sandbox_ref.h"
#include "supervisor/egress_bridge.h"
#include "supervisor/supervisor.h"

namespace hull::cli {

namespace {

using Json = nlohmann::json;

std::string str(const Json& j, const char* k) {
  auto it = j.find(k);
  if (it == j.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  return "";
}

// "10:42:07  allowed  CONNECT api.example.com:443 → 93.184.216.34  --allow api.example.com  ↑1.2 KiB ↓48 KiB  310 ms  pid 42 curl"
std::string readable(const std::string& line) {
  Json j = Json::parse(line, nullptr, false);
  if (!j.is_object()) return "? " + line;
  std::string time = str(j, "time");
  if (time.size() >= 19) time = time.substr(11, 8);
  const std::string kind = str(j, "kind");
  if (kind != "connection") return time + "  " + kind + ": " + str(j, "detail");
  std::string out = time + "  " + str(j, "decision") + "  " + str(j, "method") + " " + str(j, "host") + ":" +
                    str(j, "port") + str(j, "path");
  if (!str(j, "address").empty()) out += " -> " + str(j, "address");
  out += "  " + str(j, "rule");
  if (str(j, "decision") == "refused" && !str(j, "reason").empty()) out += " (" + str(j, "reason") + ")";
  if (!str(j, "error").empty()) out += "  error: " + str(j, "error");
  const uint64_t up = j.value("bytes_up", uint64_t{0}), down = j.value("bytes_down", uint64_t{0});
  if (up + down > 0) out += "  up " + exact_size(up) + " down " + exact_size(down);
  out += "  " + str(j, "duration_ms") + " ms";
  if (!str(j, "client").empty()) out += "  [" + str(j, "client") + "]";
  return out;
}

}  // namespace

int cmd_logs_network(const std::string& name, bool follow, bool json) {
  auto sb = find_sandbox(name);
  if (!sb) return fail(sb.error());
  if (!sb->spec.network.enabled)
    return fail("sandbox '" + name + "' has no network", "it was started without --network, so nothing went out");
  const std::string path = supervisor::network_log_path(sb->dir);
  UniqueFd fd;
  std::string partial;
  for (;;) {
    if (!fd) {
      if (auto opened = sys::open(path, O_RDONLY | O_CLOEXEC)) fd = std::move(*opened);
      else if (!follow) return fail("no network log yet at " + path);
    }
    bool ended = false;
    if (follow) {
      auto st = supervisor::observed_state(sb->dir);
      ended = !st || is_final(st->status);
    }
    if (fd) {
      std::byte buf[64 * 1024];
      for (;;) {
        auto n = sys::read_some(fd.get(), buf);
        if (!n) return fail(n.error());
        if (*n == 0) break;
        partial.append(reinterpret_cast<const char*>(buf), *n);
        size_t nl;
        while ((nl = partial.find('\n')) != std::string::npos) {
          std::string line = partial.substr(0, nl);
          partial.erase(0, nl + 1);
          std::string text = json ? line : readable(line);
          if (!json || ::isatty(1) == 1) {
            TerminalFilter f;
            text = f.feed(text) + f.finish();
          }
          std::printf("%s\n", text.c_str());
        }
      }
      std::fflush(stdout);
    }
    if (!follow || ended) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace hull::cli
