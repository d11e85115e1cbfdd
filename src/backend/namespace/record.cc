#include "backend/namespace/record.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "backend/backend.h"
#include "backend/namespace/cgroups.h"
#include "base/sys.h"

namespace hull::backend {

namespace ns {

std::string record_path(const std::string& state_dir) { return state_dir + "/backend.json"; }

Status write_record(const std::string& state_dir, const BackendRecord& r) {
  nlohmann::json j;
  j["backend"] = r.backend;
  j["host_pid"] = r.host_pid;
  j["start_time"] = r.start_time;
  j["cgroups"] = r.cgroups;
  j["scratch"] = r.scratch;
  return sys::write_file_atomic(record_path(state_dir), j.dump(2) + "\n", 0600);
}

Result<std::optional<BackendRecord>> read_record(const std::string& state_dir) {
  std::string path = record_path(state_dir);
  if (!sys::exists(path)) return std::optional<BackendRecord>();
  HULL_ASSIGN(std::string text, sys::read_file(path, 1 << 20));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("parse " + path, "not a JSON object");
  BackendRecord r;
  try {
    r.backend = j.value("backend", std::string("namespace"));
    r.host_pid = j.value("host_pid", 0);
    r.start_time = j.value("start_time", uint64_t{0});
    r.cgroups = j.value("cgroups", std::vector<std::string>{});
    r.scratch = j.value("scratch", std::string());
  } catch (const nlohmann::json::exception& e) {
    return make_error("parse " + path, e.what());
  }
  return std::optional<BackendRecord>(std::move(r));
}

uint64_t process_start_time(pid_t pid) {
  if (pid <= 0) return 0;
  auto stat = sys::read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!stat) return 0;
  // comm (field 2) may contain spaces and parens: count from the last ')'.
  size_t p = stat->rfind(')');
  if (p == std::string::npos) return 0;
  int field = 2;
  size_t i = p + 1;
  while (i < stat->size() && field < 22) {
    if ((*stat)[i] == ' ') ++field;
    ++i;
  }
  return std::strtoull(stat->c_str() + i, nullptr, 10);
}

Status remove_recorded(const std::string& state_dir, const BackendRecord& r) {
  if (r.host_pid > 0 && r.start_time != 0 && process_start_time(r.host_pid) == r.start_time) {
    int pfd = static_cast<int>(::syscall(SYS_pidfd_open, r.host_pid, 0));
    if (pfd >= 0) {
      UniqueFd pidfd(pfd);
      // Re-check after pidfd_open: the pidfd now pins exactly this process.
      if (process_start_time(r.host_pid) == r.start_time) {
        ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
        pollfd p{pidfd.get(), POLLIN, 0};
        (void)::poll(&p, 1, 10000);  // pid 1 exits after all of its namespace
      }
    }
  }
  HULL_TRY(kill_and_remove_cgroups(r.cgroups));
  if (!r.scratch.empty() && ::rmdir(r.scratch.c_str()) < 0 && errno != ENOENT)
    return sys_error("rmdir " + r.scratch);
  if (::unlink(record_path(state_dir).c_str()) < 0 && errno != ENOENT)
    return sys_error("unlink " + record_path(state_dir));
  return ok_status();
}

}  // namespace ns

Status reap_leftovers(const std::string& state_dir) {
  HULL_ASSIGN(auto rec, ns::read_record(state_dir));
  if (!rec) return ok_status();
  return ns::remove_recorded(state_dir, *rec);
}

}  // namespace hull::backend
