// `hull logs [-f] NAME`: the detached main command's output (main.log), or
// with --supervisor the supervisor's own log. -f polls the file on a short
// timer until the sandbox reaches a final state — this is UI, not test
// synchronisation, so polling is good enough and works on every filesystem.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "base/sys.h"
#include "cli/commands.h"
#include "cli/sandbox_ref.h"
#include "supervisor/supervisor.h"

namespace hull::cli {

namespace {
// Copies from fd's current offset to EOF onto stdout.
Status drain(int fd) {
  std::byte buf[64 * 1024];
  for (;;) {
    HULL_ASSIGN(size_t n, sys::read_some(fd, buf));
    if (n == 0) return ok_status();
    HULL_TRY(sys::write_all(1, std::span<const std::byte>(buf, n)));
  }
}
}  // namespace

int cmd_logs(const std::string& name, bool follow, bool supervisor_log) {
  auto sb = find_sandbox(name);
  if (!sb) return fail(sb.error());
  std::string path = sb->dir + (supervisor_log ? "/supervisor.log" : "/main.log");
  UniqueFd fd;
  for (;;) {
    if (!fd) {
      auto opened = sys::open(path, O_RDONLY | O_CLOEXEC);
      if (opened) fd = std::move(*opened);
      else if (!follow) {
        if (!supervisor_log && !sb->spec.detach)
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
      if (auto st2 = drain(fd.get()); !st2) return fail(st2.error());
    }
    if (!follow || ended) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace hull::cli
