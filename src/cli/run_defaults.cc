#include "cli/run_defaults.h"

#include <cstdio>

#include "cli/output.h"

namespace hull::cli {

std::vector<std::string> apply_sandbox_defaults(const image::SandboxDefaults& d, const std::string& project_dir,
                                                RunOptions& o) {
  std::vector<std::string> notes;
  if (o.cpus == 0 && d.cpus) {
    o.cpus = *d.cpus;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", *d.cpus);
    notes.push_back(std::string("cpus ") + buf);
  }
  // Sizes go through the same parser as the flags, so plain bytes suffice.
  if (o.memory.empty() && d.memory_bytes) {
    o.memory = std::to_string(*d.memory_bytes);
    notes.push_back("memory " + exact_size(*d.memory_bytes));
  }
  if (o.disk.empty() && d.disk_bytes) {
    o.disk = std::to_string(*d.disk_bytes);
    notes.push_back("disk " + exact_size(*d.disk_bytes));
  }
  if (o.pids == 0 && d.pids) {
    o.pids = *d.pids;
    notes.push_back("pids " + std::to_string(o.pids));
  }
  if (o.backend.empty() && d.backend != image::BackendChoice::kAuto) {
    o.backend = image::backend_choice_name(d.backend);
    notes.push_back("backend " + o.backend);
  }
  // The workspace: --workspace DIR names another directory, but there is no
  // flag to loosen a read-only mount, so the file's "ro" holds for it too
  // (the stricter of the two wins).
  switch (d.workspace) {
    case image::WorkspaceMode::kReadWrite:
      if (o.workspace.empty()) {
        o.workspace = project_dir;
        notes.push_back(std::string("workspace ") + project_dir + (o.workspace_ro ? " (read-only)" : " (read-write)"));
      }
      break;
    case image::WorkspaceMode::kReadOnly:
      if (o.workspace.empty()) o.workspace = project_dir;
      o.workspace_ro = true;
      notes.push_back("workspace " + o.workspace + " (read-only)");
      break;
    case image::WorkspaceMode::kNone:
      break;  // mounted only when --workspace asks for it
  }
  // There is no egress proxy yet; the only network hull gives is none. Say
  // so instead of pretending: the sandbox gets less than asked, never more.
  if (d.network == image::NetworkMode::kProxy)
    notes.push_back("network none: network = \"proxy\" needs hull's egress proxy, which this build does not have yet");
  return notes;
}

}  // namespace hull::cli
