// Typed messages carried as JSON in kHello/kOpen/kMessage frame payloads.
// decode_message() is the only place payload bytes become values: it checks
// every field's type and bound and rejects unknown "type" values and unknown
// fields. Adding a message: add the struct, add it to Message, and the
// compiler lists every switch that must handle it (no default: cases).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "base/result.h"

namespace hull::wire {

// Bounds applied by decode_message (a peer exceeding them is misbehaving).
inline constexpr size_t kMaxArgs = 4096;
inline constexpr size_t kMaxEnv = 4096;
inline constexpr size_t kMaxStringBytes = 16 * 1024;  // one arg, path, env entry
inline constexpr size_t kMaxDirEntriesPerMessage = 256;

// ---- stream 0 (control) ----------------------------------------------------
struct Hello {  // first frame each way
  uint32_t version = 0;
  std::string role;      // "agent" | "supervisor" | "client" | "run" (attached `hull run`)
  std::string software;  // "hull-agent 0.1.0"
};
struct Ready {  // agent → host once it can serve requests
  std::string hostname;
  std::string kernel;  // uname -r inside
};
struct Shutdown {  // host → agent: stop all processes and power off/exit
  uint32_t grace_ms = 2000;
};
struct Event {  // agent → host, informational (e.g. "oom-kill", "reaped")
  std::string kind;
  std::string detail;
};
struct Health {};  // host → agent; answered with HealthReply on stream 0
struct HealthReply {
  uint32_t processes = 0;
  uint64_t uptime_ms = 0;
};

// ---- exec stream (opened with ExecRequest) ----------------------------------
struct ExecRequest {
  std::vector<std::string> argv;  // non-empty; argv[0] looked up in PATH
  std::vector<std::string> env;   // "K=V"; the complete environment
  std::string cwd = "/";
  uint32_t uid = 0;
  uint32_t gid = 0;
  bool tty = false;  // PTY: stdout carries the terminal; stderr unused
  uint16_t rows = 24;
  uint16_t cols = 80;
  uint32_t timeout_ms = 0;  // 0 = none; on expiry SIGKILL the process group
};
struct ExecStarted {
  int32_t pid = 0;  // pid inside the sandbox
};
struct Resize {
  uint16_t rows = 24;
  uint16_t cols = 80;
};
struct Signal {
  int32_t signo = 0;  // forwarded to the process group
};
enum class SpawnError : uint8_t { kNone, kNotFound, kNotExecutable, kOther };
struct ExecExit {  // last message on an exec stream
  int32_t exit_code = -1;  // valid when signal == 0 and spawn_error == kNone
  int32_t signal = 0;
  bool timed_out = false;
  SpawnError spawn_error = SpawnError::kNone;
  std::string error;  // human text for spawn errors
};

// ---- file stream (opened with FileRequest) ----------------------------------
enum class FileOp : uint8_t { kStat, kRead, kWrite, kList, kMkdir, kRemove, kRename };
struct FileRequest {
  FileOp op = FileOp::kStat;
  std::string path;     // absolute, inside the sandbox
  std::string to;       // kRename target
  uint32_t mode = 0644; // kWrite/kMkdir
  bool recursive = false;  // kMkdir (-p) / kRemove (-r)
};
enum class FileType : uint8_t { kRegular, kDirectory, kSymlink, kOther };
struct FileInfo {  // reply to kStat; also the first message of kRead
  FileType type = FileType::kOther;
  uint64_t size = 0;
  uint32_t mode = 0;
  int64_t mtime_s = 0;
};
struct DirEntry {
  std::string name;
  FileType type = FileType::kOther;
  uint64_t size = 0;
};
struct DirEntries {  // kList replies with zero or more of these, then FileDone
  std::vector<DirEntry> entries;
};
struct FileDone {  // last message on a file stream
  int32_t err = 0;  // errno inside the sandbox, 0 = success
  std::string error;
};

// ---- egress stream (opened with EgressAccept) -------------------------------
// The sandbox's one way out. The host parks these streams with the agent
// (every stream is the host's to open); the agent's proxy listener
// (127.0.0.1:kEgressProxyPort inside) hands each connection it accepts to
// one parked stream, says EgressConnected on it, then relays: the client's
// bytes go up as kStdout data, the far end's come down as kStdin data, and
// either side's end of input is an EOF. With no parked stream the agent
// accepts nothing, so the host's parked count is the sandbox's cap on
// connections being set up.
inline constexpr uint16_t kEgressProxyPort = 3128;
struct EgressAccept {};  // host → agent: open; wait for a client
struct EgressConnected {  // agent → host: a client connected
  // Who, as the agent sees it ("pid 42 curl"): display only, untrusted.
  std::string client;
  // "proxy": a TCP client of the proxy listener. "dns": one query to the
  // agent's stub resolver (127.0.0.1:53 inside), sent up as the stream's
  // data; the answer comes down the same way.
  std::string kind = "proxy";
};

using Message = std::variant<Hello, Ready, Shutdown, Event, Health, HealthReply, ExecRequest,
                             ExecStarted, Resize, Signal, ExecExit, FileRequest, FileInfo,
                             DirEntries, FileDone, EgressAccept, EgressConnected>;

// JSON with a "type" field naming the struct ("exec", "exec_exit", ...).
std::string encode_message(const Message& m);
std::vector<std::byte> encode_message_bytes(const Message& m);
// Strict: bounded sizes, exact field types, no unknown types or fields.
Result<Message> decode_message(std::span<const std::byte> payload);

const char* message_name(const Message& m);

// The shell-convention status of an ended command, so `hull run ...; echo $?`
// reads like running it locally:
//   exited normally → its code;  killed by signal N → 128 + N;
//   timed out → 124 (as timeout(1));  not found → 127, not executable → 126
//   (as sh);  other spawn failure → 125 (as docker/podman "could not run").
int shell_exit_status(const ExecExit& e);

}  // namespace hull::wire
