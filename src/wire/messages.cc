// Message schemas: one Schema<T> per struct with its wire name, encoder and
// strict decoder, kept side by side so a field cannot be added to one and
// forgotten in the other. Every field is always written and always required.
#include "wire/messages.h"

#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "wire/frame.h"
#include "wire/json_fields.h"

namespace hull::wire {
namespace {

using detail::Fields;
using detail::json;
using detail::Text;

// Deepest legitimate message is 3 levels (object > entries > entry).
constexpr int kMaxDepth = 8;

const char* const kRoles[] = {"agent", "supervisor", "client", "run"};
const char* const kSpawnErrors[] = {"none", "not_found", "not_executable", "other"};
const char* const kFileOps[] = {"stat", "read", "write", "list", "mkdir", "remove", "rename"};
const char* const kFileTypes[] = {"regular", "directory", "symlink", "other"};
constexpr int32_t kMaxSignal = 64;  // SIGRTMAX on Linux
constexpr uint32_t kMaxMode = 07777;
constexpr int32_t kMaxErrno = 4095;

template <class T>
struct Schema;

template <>
struct Schema<Hello> {
  static constexpr const char* name = "hello";
  static void encode(const Hello& m, json& j) {
    j["version"] = m.version;
    j["role"] = m.role;
    j["software"] = m.software;
  }
  static void decode(Fields& f, Hello& m) {
    f.u32("version", m.version);
    RoleName role{};
    f.name("role", role, kRoles);
    if (f.ok()) m.role = kRoles[static_cast<size_t>(role)];
    f.text("software", m.software);
  }
  enum class RoleName { kAgent, kSupervisor, kClient, kRun };
};

template <>
struct Schema<Ready> {
  static constexpr const char* name = "ready";
  static void encode(const Ready& m, json& j) {
    j["hostname"] = m.hostname;
    j["kernel"] = m.kernel;
  }
  static void decode(Fields& f, Ready& m) {
    f.text("hostname", m.hostname);
    f.text("kernel", m.kernel);
  }
};

template <>
struct Schema<Shutdown> {
  static constexpr const char* name = "shutdown";
  static void encode(const Shutdown& m, json& j) { j["grace_ms"] = m.grace_ms; }
  static void decode(Fields& f, Shutdown& m) { f.u32("grace_ms", m.grace_ms); }
};

template <>
struct Schema<Event> {
  static constexpr const char* name = "event";
  static void encode(const Event& m, json& j) {
    j["kind"] = m.kind;
    j["detail"] = m.detail;
  }
  static void decode(Fields& f, Event& m) {
    f.text("kind", m.kind, Text::kNonEmpty);
    f.text("detail", m.detail);
  }
};

template <>
struct Schema<Health> {
  static constexpr const char* name = "health";
  static void encode(const Health&, json&) {}
  static void decode(Fields&, Health&) {}
};

template <>
struct Schema<HealthReply> {
  static constexpr const char* name = "health_reply";
  static void encode(const HealthReply& m, json& j) {
    j["processes"] = m.processes;
    j["uptime_ms"] = m.uptime_ms;
  }
  static void decode(Fields& f, HealthReply& m) {
    f.u32("processes", m.processes);
    f.u64("uptime_ms", m.uptime_ms);
  }
};

template <>
struct Schema<ExecRequest> {
  static constexpr const char* name = "exec";
  static void encode(const ExecRequest& m, json& j) {
    j["argv"] = m.argv;
    j["env"] = m.env;
    j["cwd"] = m.cwd;
    j["uid"] = m.uid;
    j["gid"] = m.gid;
    j["tty"] = m.tty;
    j["rows"] = m.rows;
    j["cols"] = m.cols;
    j["timeout_ms"] = m.timeout_ms;
  }
  static void decode(Fields& f, ExecRequest& m) {
    f.text_list("argv", m.argv, kMaxArgs, Text::kAny);
    if (f.ok() && (m.argv.empty() || m.argv[0].empty()))
      f.fail("argv", "must be non-empty with a non-empty argv[0]");
    f.text_list("env", m.env, kMaxEnv, Text::kEnvEntry);
    f.text("cwd", m.cwd, Text::kAbsolutePath);
    f.u32("uid", m.uid);
    f.u32("gid", m.gid);
    f.boolean("tty", m.tty);
    f.u16("rows", m.rows);
    f.u16("cols", m.cols);
    f.u32("timeout_ms", m.timeout_ms);
  }
};

template <>
struct Schema<ExecStarted> {
  static constexpr const char* name = "exec_started";
  static void encode(const ExecStarted& m, json& j) { j["pid"] = m.pid; }
  static void decode(Fields& f, ExecStarted& m) { f.i32("pid", m.pid, 1); }
};

template <>
struct Schema<Resize> {
  static constexpr const char* name = "resize";
  static void encode(const Resize& m, json& j) {
    j["rows"] = m.rows;
    j["cols"] = m.cols;
  }
  static void decode(Fields& f, Resize& m) {
    f.u16("rows", m.rows);
    f.u16("cols", m.cols);
  }
};

template <>
struct Schema<Signal> {
  static constexpr const char* name = "signal";
  static void encode(const Signal& m, json& j) { j["signo"] = m.signo; }
  static void decode(Fields& f, Signal& m) { f.i32("signo", m.signo, 1, kMaxSignal); }
};

template <>
struct Schema<ExecExit> {
  static constexpr const char* name = "exec_exit";
  static void encode(const ExecExit& m, json& j) {
    j["exit_code"] = m.exit_code;
    j["signal"] = m.signal;
    j["timed_out"] = m.timed_out;
    j["spawn_error"] = kSpawnErrors[static_cast<size_t>(m.spawn_error)];
    j["error"] = m.error;
  }
  static void decode(Fields& f, ExecExit& m) {
    f.i32("exit_code", m.exit_code, -1, 255);
    f.i32("signal", m.signal, 0, kMaxSignal);
    f.boolean("timed_out", m.timed_out);
    f.name("spawn_error", m.spawn_error, kSpawnErrors);
    f.text("error", m.error);
  }
};

template <>
struct Schema<FileRequest> {
  static constexpr const char* name = "file";
  static void encode(const FileRequest& m, json& j) {
    j["op"] = kFileOps[static_cast<size_t>(m.op)];
    j["path"] = m.path;
    j["to"] = m.to;
    j["mode"] = m.mode;
    j["recursive"] = m.recursive;
  }
  static void decode(Fields& f, FileRequest& m) {
    f.name("op", m.op, kFileOps);
    f.text("path", m.path, Text::kAbsolutePath);
    f.text("to", m.to, Text::kOptionalPath);
    if (f.ok() && m.op == FileOp::kRename && m.to.empty()) f.fail("to", "rename needs a target");
    f.u32("mode", m.mode, kMaxMode);
    f.boolean("recursive", m.recursive);
  }
};

template <>
struct Schema<FileInfo> {
  static constexpr const char* name = "file_info";
  // "type" is the message discriminator, hence "file_type".
  static void encode(const FileInfo& m, json& j) {
    j["file_type"] = kFileTypes[static_cast<size_t>(m.type)];
    j["size"] = m.size;
    j["mode"] = m.mode;
    j["mtime_s"] = m.mtime_s;
  }
  static void decode(Fields& f, FileInfo& m) {
    f.name("file_type", m.type, kFileTypes);
    f.u64("size", m.size);
    f.u32("mode", m.mode, kMaxMode);
    f.i64("mtime_s", m.mtime_s);
  }
};

template <>
struct Schema<DirEntries> {
  static constexpr const char* name = "dir_entries";
  static void encode(const DirEntries& m, json& j) {
    json arr = json::array();
    for (const auto& e : m.entries) {
      arr.push_back({{"name", e.name},
                     {"file_type", kFileTypes[static_cast<size_t>(e.type)]},
                     {"size", e.size}});
    }
    j["entries"] = std::move(arr);
  }
  static void decode(Fields& f, DirEntries& m) {
    const json* arr = f.array("entries", kMaxDirEntriesPerMessage);
    if (!arr) return;
    m.entries.reserve(arr->size());  // bounded by array()
    for (size_t i = 0; i < arr->size(); ++i) {
      Fields e((*arr)[i], "dir_entries.entries[" + std::to_string(i) + "]");
      DirEntry d;
      e.text("name", d.name, Text::kFileName);
      e.name("file_type", d.type, kFileTypes);
      e.u64("size", d.size);
      if (auto s = e.finish(); !s) return f.fail("entries", s.error().detail);
      m.entries.push_back(std::move(d));
    }
  }
};

template <>
struct Schema<FileDone> {
  static constexpr const char* name = "file_done";
  static void encode(const FileDone& m, json& j) {
    j["err"] = m.err;
    j["error"] = m.error;
  }
  static void decode(Fields& f, FileDone& m) {
    f.i32("err", m.err, 0, kMaxErrno);
    f.text("error", m.error);
  }
};

template <>
struct Schema<EgressAccept> {
  static constexpr const char* name = "egress_accept";
  static void encode(const EgressAccept&, json&) {}
  static void decode(Fields&, EgressAccept&) {}
};

template <>
struct Schema<EgressConnected> {
  static constexpr const char* name = "egress_connected";
  static void encode(const EgressConnected& m, json& j) {
    j["client"] = m.client;
    j["kind"] = m.kind;
  }
  static void decode(Fields& f, EgressConnected& m) {
    f.text("client", m.client);
    if (m.client.size() > 256) f.fail("client", "longer than 256 bytes");
    f.text("kind", m.kind);
    if (m.kind != "proxy" && m.kind != "dns") f.fail("kind", "must be \"proxy\" or \"dns\"");
  }
};

Error invalid(const std::string& why) { return make_error("invalid message", why); }

// Rejects nesting deeper than kMaxDepth and duplicate keys (which nlohmann
// would otherwise resolve silently, last one wins) while parsing, so a hostile
// payload never becomes a deep tree.
struct ParseGuard {
  bool too_deep = false;
  bool duplicate = false;
  std::vector<std::set<std::string>> keys;

  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        keys.emplace_back();
        [[fallthrough]];
      case json::parse_event_t::array_start:
        if (depth >= kMaxDepth) too_deep = true;
        return !too_deep;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        return true;
      case json::parse_event_t::key:
        if (!keys.empty() && parsed.is_string() &&
            !keys.back().insert(parsed.get<std::string>()).second) {
          duplicate = true;
          return false;
        }
        return true;
      case json::parse_event_t::array_end:
      case json::parse_event_t::value:
        return true;
    }
    return true;
  }
};

template <size_t I = 0>
Result<Message> decode_as(std::string_view type, const json& j) {
  if constexpr (I == std::variant_size_v<Message>) {
    return invalid("unknown message type \"" + std::string(type.substr(0, 64)) + "\"");
  } else {
    using T = std::variant_alternative_t<I, Message>;
    if (type != Schema<T>::name) return decode_as<I + 1>(type, j);
    T m;
    Fields f(j, Schema<T>::name);
    Schema<T>::decode(f, m);
    if (auto s = f.finish("type"); !s) return s.error();
    return Message(std::move(m));
  }
}

}  // namespace

const char* message_name(const Message& m) {
  return std::visit([](const auto& v) { return Schema<std::decay_t<decltype(v)>>::name; }, m);
}

std::string encode_message(const Message& m) {
  json j = json::object();
  j["type"] = message_name(m);
  std::visit([&j](const auto& v) { Schema<std::decay_t<decltype(v)>>::encode(v, j); }, m);
  // Strings from the guest (file names) are bytes, not necessarily UTF-8:
  // replace what is not, rather than throw.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<std::byte> encode_message_bytes(const Message& m) {
  std::string s = encode_message(m);
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return std::vector<std::byte>(p, p + s.size());
}

Result<Message> decode_message(std::span<const std::byte> payload) try {
  if (payload.size() > kMaxPayload) return invalid("payload over " + std::to_string(kMaxPayload));
  const auto* p = reinterpret_cast<const char*>(payload.data());
  // nlohmann ends its input at a NUL byte (JSON text never holds one): what
  // followed would be silently dropped, so such a payload is refused whole.
  if (std::memchr(p, 0, payload.size()) != nullptr) return invalid("raw NUL byte in the payload");
  ParseGuard guard;
  json j = json::parse(p, p + payload.size(), std::ref(guard), /*allow_exceptions=*/false,
                       /*ignore_comments=*/false);
  if (guard.too_deep) return invalid("nested deeper than " + std::to_string(kMaxDepth));
  if (guard.duplicate) return invalid("duplicate key");
  if (j.is_discarded()) return invalid("not valid JSON");
  if (!j.is_object()) return invalid("not a JSON object");
  auto t = j.find("type");
  if (t == j.end() || !t->is_string()) return invalid("missing \"type\"");
  return decode_as(t->get_ref<const std::string&>(), j);
} catch (const std::exception& e) {
  // Nothing above should throw once the checks pass; this is the backstop
  // that keeps a parser bug from unwinding through the channel.
  return invalid(std::string("internal: ") + e.what());
}

int shell_exit_status(const ExecExit& e) {
  switch (e.spawn_error) {
    case SpawnError::kNotFound: return 127;
    case SpawnError::kNotExecutable: return 126;
    case SpawnError::kOther: return 125;
    case SpawnError::kNone: break;
  }
  if (e.timed_out) return 124;
  if (e.signal != 0) return 128 + e.signal;
  return e.exit_code;
}

}  // namespace hull::wire
