// The default builder: mmdebstrap, with the host's apt sources.
#include <string>

#include "base/command.h"
#include "base/sys.h"
#include "image/default_image.h"

namespace hull::image {

namespace {

// mmdebstrap ends with a generic "E: mmdebstrap failed to run"; the first
// "E: " line is the one that says why (e.g. "E: Failed to fetch ...").
std::string reason_from(const std::string& err_tail) {
  std::string first_e, last;
  size_t pos = 0;
  while (pos < err_tail.size()) {
    size_t end = err_tail.find('\n', pos);
    if (end == std::string::npos) end = err_tail.size();
    std::string line = err_tail.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    last = line;
    if (first_e.empty() && line.starts_with("E: ")) first_e = line;
  }
  return first_e.empty() ? last : first_e;
}

}  // namespace

Status build_with_mmdebstrap(const DefaultImageSpec& spec, const std::string& rootfs,
                             int progress_fd) {
  const std::string op = "build default image (Debian " + spec.suite + ")";
  if (find_program("mmdebstrap").empty())
    return make_error(op, "mmdebstrap not found; install mmdebstrap: apt-get install mmdebstrap");
  if (progress_fd >= 0)
    (void)sys::write_all(progress_fd,
                         "building the " + spec.name + " (Debian " + spec.suite + ", ~1 min, once)…\n");
  std::string include = "--include=";
  for (size_t i = 0; i < spec.packages.size(); ++i) include += (i ? "," : "") + spec.packages[i];

  Command cmd("mmdebstrap");
  cmd.arg("--variant=" + spec.variant).arg(include).arg(spec.suite).arg(rootfs).allow_failure();
  if (progress_fd >= 0) cmd.stream_stderr_to(progress_fd);
  HULL_ASSIGN(auto out, cmd.run());
  if (out.exit_code != 0)
    return make_error(op, "mmdebstrap exited with " + std::to_string(out.exit_code) + ": " +
                              reason_from(out.err_tail) +
                              " (is the Debian archive reachable from the host's apt sources?)");
  return ok_status();
}

}  // namespace hull::image
