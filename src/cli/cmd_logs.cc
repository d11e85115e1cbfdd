// `hull logs [-f] NAME`: the detached main command's output (main.log), with
// --supervisor the supervisor's own log, with --console a microVM guest's
// serial console (console.log). All of it is written by the sandbox: on a
// terminal it is printed with control bytes and escape sequences replaced (a
// hostile sandbox must not drive the user's terminal). -f polls the file on a short
// timer until the sandbox reaches a final state — this is UI, not test
// synchronisation, so polling is good enough and works on every filesystem.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <cstdio>
#include <thread>

#include "backend/microvm/console.h"
#include "backend/microvm/microvm_backend.h"
#include "base/sys.h"
#include "base/terminal_text.h"
#include "cli/commands.h"
#include "cli/sandbox_ref.h"
#include "supervisor/supervisor.h"

namespace hull::cli {

namespace {
// Copies from fd's current offset to EOF onto stdout, through `filter`
// when there is one (terminal_text.h).
Status drain(int fd, TerminalFilter* filter) {
  std::byte buf[64 * 1024];
  for (;;) {
    HULL_ASSIGN(size_t n, sys::read_some(fd, buf));
    if (n == 0) return filter != nullptr ? sys::write_all(1, filter->finish()) : ok_status();
    if (filter != nullptr) {
      HULL_TRY(sys::write_all(1, filter->feed(std::string_view(reinterpret_cast<const char*>(buf), n))));
    } else {
      HULL_TRY(sys::write_all(1, std::span<const std::byte>(buf, n)));
    }
  }
}

const char* log_file(LogKind kind) {
  switch (kind) {
    case LogKind::kSupervisor: return "/supervisor.log";
    case LogKind::kConsole: return "/console.log";
    case LogKind::kMain:
    case LogKind::kService: break;
  }
  return "/main.log";
}
}  // namespace

void print_console_tail(const std::string& sandbox_dir) {
  namespace mv = backend::microvm;
  const std::string path = mv::console_log_path(sandbox_dir);
  auto v = mv::judge_console_file(path, mv::kConsoleLogMax);
  if (!v || v->tail.empty()) return;
  std::fprintf(stderr, "hull: guest console, last %zu lines (all: hull logs --console):\n", v->tail.size());
  for (const auto& l : v->tail) std::fprintf(stderr, "  | %s\n", l.c_str());
}

int cmd_logs(const std::string& name, bool follow, LogKind kind, const std::string& service, bool raw) {
  auto sb = find_sandbox(name);
  if (!sb) return fail(sb.error());
  if (kind == LogKind::kService) {
    // Only a name the sandbox's spec lists: it becomes part of a path.
    std::string names;
    bool known = false;
    for (const auto& s : sb->spec.services) {
      known = known || s.name == service;
      names += (names.empty() ? "" : ", ") + s.name;
    }
    if (!known)
      return fail("sandbox '" + name + "' has no service '" + service + "'",
                  names.empty() ? "its image declares no [[service]]" : "its services: " + names);
  }
  if (kind == LogKind::kConsole && sb->spec.backend != backend::BackendKind::kMicrovm)
    return fail("sandbox '" + name + "' has no guest console", "it runs on the namespace backend (one kernel with the host)");
  std::string path = kind == LogKind::kService ? sb->dir + "/services/" + service + ".log" : sb->dir + log_file(kind);
  // The console is the guest kernel's and never needs its control bytes;
  // the rest is shown as written unless it goes to a terminal.
  std::optional<TerminalFilter> filter;
  if (kind == LogKind::kConsole || (!raw && ::isatty(1) == 1)) filter.emplace();
  UniqueFd fd;
  for (;;) {
    if (!fd) {
      auto opened = sys::open(path, O_RDONLY | O_CLOEXEC);
      if (opened) fd = std::move(*opened);
      else if (!follow) {
        if (kind == LogKind::kMain && !sb->spec.detach)
          return fail("sandbox '" + name + "' has no log", "only detached sandboxes (run -d) log their output");
        return fail("no log yet at " + path);
      }
    }
    bool ended = false;
    if (follow) {
      auto st = supervisor::observed_state(sb->dir);
      ended = !st || is_final(st->status);
    }
    if (fd) {
      // The supervisor caps main.log by truncating it; start over if so.
      struct stat st {};
      off_t pos = ::lseek(fd.get(), 0, SEEK_CUR);
      if (::fstat(fd.get(), &st) == 0 && st.st_size < pos) ::lseek(fd.get(), 0, SEEK_SET);
      if (auto st2 = drain(fd.get(), filter ? &*filter : nullptr); !st2) return fail(st2.error());
    }
    if (!follow || ended) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace hull::cli
