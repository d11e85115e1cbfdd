// The hull CLI's closed set of commands and their parsed options. main.cc
// parses flags into these structs and dispatches with an exhaustive switch;
// each cmd_*.cc implements one command and returns the process exit code.
//
// Exit codes: a command's own code for run/exec (128+signal, 127 not found,
// 126 not executable); 125 for hull's own errors (bad flags, no such
// sandbox, supervisor failure); 0/1 for the others.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/units.h"

namespace hull::cli {

inline constexpr int kExitHullError = 125;

enum class CommandKind {
  kRun, kExec, kLs, kInspect, kStop, kRm, kCp, kLogs, kDoctor,
  kImagePrepare, kImageLs, kImageInspect, kImageImport, kImageRm, kImageGc, kImageBuild,
  kSecretSet, kSecretLs, kSecretRm, kSupervise, kEgress
};

// Prints "hull: <what> — <next>" (one line, stderr) and returns 125.
int fail(const std::string& what, const std::string& next = {});
int fail(const Error& e);

// Flags shared by run and exec: how the process is started and attached.
struct ProcessFlags {
  bool interactive = false;  // -i: forward our stdin
  bool tty = false;          // -t: PTY inside, raw mode outside
  std::vector<std::string> env;
  std::string workdir;  // -w
  std::vector<std::string> command;
};

struct RunOptions {
  ProcessFlags process;
  bool remove = false;  // --rm
  bool detach = false;  // -d
  std::string name;
  std::string workspace;
  bool workspace_ro = false;
  double cpus = 0;       // 0: unset
  uint32_t pids = 0;     // 0: unset (the backend's default)
  std::string memory;   // "512m"
  std::string disk;     // "2g": size of the writable layer
  std::string timeout;  // "30s"
  std::string backend;  // "namespace" | "microvm" | "auto"; empty: unset (auto)
  std::string image = "default";
  std::string user;    // -u/--user: overrides the image's user
  std::string rootfs;  // hidden --rootfs: a prepared tree (the image builder's sandbox)
  // --network none|locked|balanced|open; empty: unset (none for now)
  std::string network;
  std::vector<std::string> allow, deny;  // --allow/--deny RULE (repeatable)
  bool weaken_for_package_install = false;  // hidden: the image builder's namespace sandbox
};
int cmd_run(const RunOptions& o);
// Hidden `hull __egress`: a sandbox's egress process, its link on fd 3.
int cmd_egress();

struct ExecOptions {
  ProcessFlags process;
  std::string name;
  std::string user;  // -u/--user; default: the sandbox's user
};
int cmd_exec(const ExecOptions& o);

int cmd_ls(bool json, bool all);
int cmd_inspect(const std::string& name, bool json);
int cmd_stop(const std::string& name);
int cmd_rm(const std::vector<std::string>& names, bool force);
int cmd_cp(const std::string& src, const std::string& dst);
enum class LogKind { kMain, kSupervisor, kConsole, kService };
// kService: the log of the image's service `service`.
// Guest-written text is filtered (base/terminal_text.h) when stdout is a
// terminal unless `raw`; the console log always is.
int cmd_logs(const std::string& name, bool follow, LogKind kind, const std::string& service = "", bool raw = false);
// `hull logs --network`: one line per egress attempt, or the JSON lines.
int cmd_logs_network(const std::string& name, bool follow, bool json);
// After a sandbox failed: its guest console's last lines on stderr (microvm;
// nothing for other backends).
void print_console_tail(const std::string& sandbox_dir);
int cmd_doctor(bool json);
int cmd_image_prepare(bool print_path);
int cmd_image_ls(bool json);
int cmd_image_inspect(const std::string& ref, bool json);
int cmd_image_import(const std::string& archive, const std::string& tag, bool json);
int cmd_image_rm(const std::vector<std::string>& refs);
int cmd_image_gc();
struct ImageBuildArgs {
  std::string path = ".";  // hull.toml or its directory
  std::string tag;
  bool update = false;
  bool locked = false;
  bool no_cache = false;
  bool json = false;
};
int cmd_image_build(const ImageBuildArgs& a);
// `hull secret`: values come from --from-file, else stdin (typed hidden when
// it is a terminal); no command prints a value.
int cmd_secret_set(const std::string& name, const std::string& from_file);
int cmd_secret_ls(bool json);
int cmd_secret_rm(const std::vector<std::string>& names);
int cmd_supervise(const std::string& dir, int ready_fd);

// "512m" → bytes; "30s" → milliseconds. Errors name the bad value.
using hull::parse_duration_ms;  // base/units.h
using hull::parse_size;

}  // namespace hull::cli
