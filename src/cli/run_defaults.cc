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
  // network = "proxy": the egress proxy with the balanced preset, unless
  // --network chose otherwise.
  if (d.network == image::NetworkMode::kProxy && o.network.empty()) {
    o.network = "balanced";
    notes.push_back("network balanced (through hull's egress proxy)");
  }
  return notes;
}

}  // namespace hull::cli
