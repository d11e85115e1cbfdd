// Message schemas: every type round-trips; every malformed input is refused
// with an Error (never an exception).
#include <gtest/gtest.h>

#include <string>

#include "wire/messages.h"

namespace hull::wire {
namespace {

std::span<const std::byte> bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

Result<Message> decode(const std::string& s) { return decode_message(bytes(s)); }

std::vector<Message> all_messages() {
  ExecRequest exec;
  exec.argv = {"python3", "-c", "print('hé')", ""};
  exec.env = {"PATH=/usr/bin", "EMPTY="};
  exec.cwd = "/work";
  exec.uid = 1000;
  exec.gid = 1000;
  exec.tty = true;
  exec.rows = 50;
  exec.cols = 132;
  exec.timeout_ms = 60000;
  FileRequest file{FileOp::kRename, "/a", "/b", 0755, true};
  DirEntries dir;
  dir.entries = {{"a.txt", FileType::kRegular, 12}, {"sub", FileType::kDirectory, 0}};
  return {
      Hello{1, "agent", "hull-agent 0.1.0"},
      Ready{"sbx", "6.1.0"},
      Shutdown{500},
      Event{"oom-kill", "pid 12"},
      Health{},
      HealthReply{3, 1ull << 40},
      exec,
      ExecStarted{42},
      Resize{10, 20},
      Signal{15},
      ExecExit{-1, 9, true, SpawnError::kNotFound, "no such file"},
      file,
      FileInfo{FileType::kSymlink, 1ull << 33, 0777, -5},
      dir,
      FileDone{2, "ENOENT"},
      EgressAccept{},
      EgressConnected{"pid 42 curl", "dns"},
  };
}

TEST(WireMessages, EveryMessageTypeRoundTrips) {
  auto msgs = all_messages();
  ASSERT_EQ(msgs.size(), std::variant_size_v<Message>);  // one of each
  for (const auto& m : msgs) {
    SCOPED_TRACE(message_name(m));
    auto encoded = encode_message(m);
    auto r = decode(encoded);
    ASSERT_TRUE(r.ok()) << r.error().message() << " in " << encoded;
    EXPECT_EQ(r->index(), m.index());
    EXPECT_EQ(encode_message(*r), encoded);  // field-for-field equal
  }
}

TEST(WireMessages, NamesMatchTheProtocol) {
  const char* expected[] = {"hello",      "ready",       "shutdown",    "event",     "health",
                            "health_reply", "exec",      "exec_started", "resize",   "signal",
                            "exec_exit",  "file",        "file_info",   "dir_entries", "file_done",
                            "egress_accept", "egress_connected"};
  auto msgs = all_messages();
  for (size_t i = 0; i < msgs.size(); ++i) EXPECT_STREQ(message_name(msgs[i]), expected[i]);
}

struct BadCase {
  const char* name;
  std::string json;
  const char* error;
};

std::string deep(int n) { return std::string(n, '[') + std::string(n, ']'); }

const std::string kExecOk =
    R"("argv":["ls"],"env":["A=1"],"cwd":"/","uid":0,"gid":0,"tty":false,"rows":24,"cols":80,"timeout_ms":0)";

std::vector<BadCase> bad_cases() {
  return {
      {"empty", "", "not valid JSON"},
      {"garbage", "\x01\x02garbage", "not valid JSON"},
      {"truncated", R"({"type":"health")", "not valid JSON"},
      {"trailing junk", R"({"type":"health"} x)", "not valid JSON"},
      {"comments", R"({"type":"health"/*c*/})", "not valid JSON"},
      {"array", "[1,2]", "not a JSON object"},
      {"missing type", R"({"grace_ms":1})", "missing \"type\""},
      {"type not string", R"({"type":3})", "missing \"type\""},
      {"unknown type", R"({"type":"launch_missiles"})", "unknown message type"},
      {"unknown field", R"({"type":"health","x":1})", "unknown field \"x\""},
      {"duplicate key", R"({"type":"shutdown","grace_ms":1,"grace_ms":2})", "duplicate key"},
      {"missing field", R"({"type":"shutdown"})", "missing field"},
      {"string for int", R"({"type":"shutdown","grace_ms":"1"})", "non-negative integer"},
      {"float for int", R"({"type":"shutdown","grace_ms":1.0})", "non-negative integer"},
      {"negative u32", R"({"type":"shutdown","grace_ms":-1})", "non-negative integer"},
      {"u32 overflow", R"({"type":"shutdown","grace_ms":4294967296})", "out of range"},
      {"huge number", R"({"type":"shutdown","grace_ms":1e400})", "not valid JSON"},
      {"u16 overflow", R"({"type":"resize","rows":65536,"cols":1})", "out of range"},
      {"signal 0", R"({"type":"signal","signo":0})", "out of range"},
      {"signal 65", R"({"type":"signal","signo":65})", "out of range"},
      {"int for bool", "{\"type\":\"exec\"," + std::string(kExecOk).replace(
                                                   kExecOk.find("false"), 5, "0") + "}",
       "expected a boolean"},
      {"bad role", R"({"type":"hello","version":1,"role":"root","software":"x"})", "unknown value"},
      {"bad enum", R"({"type":"file","op":"chmod","path":"/a","to":"","mode":0,"recursive":false})",
       "unknown value"},
      {"relative path", R"({"type":"file","op":"stat","path":"a","to":"","mode":0,"recursive":false})",
       "absolute path"},
      {"rename without target",
       R"({"type":"file","op":"rename","path":"/a","to":"","mode":0,"recursive":false})",
       "needs a target"},
      {"mode over 07777",
       R"({"type":"file","op":"stat","path":"/a","to":"","mode":4096,"recursive":false})",
       "out of range"},
      {"empty argv", R"({"type":"exec","argv":[],"env":[],"cwd":"/","uid":0,"gid":0,"tty":false,"rows":1,"cols":1,"timeout_ms":0})",
       "non-empty"},
      {"NUL in argv", R"({"type":"exec","argv":["a\u0000b"],"env":[],"cwd":"/","uid":0,"gid":0,"tty":false,"rows":1,"cols":1,"timeout_ms":0})",
       "NUL"},
      {"NUL in path", R"({"type":"file","op":"stat","path":"/a\u0000","to":"","mode":0,"recursive":false})",
       "NUL"},
      {"env without =", R"({"type":"exec","argv":["a"],"env":["PATH"],"cwd":"/","uid":0,"gid":0,"tty":false,"rows":1,"cols":1,"timeout_ms":0})",
       "KEY=VALUE"},
      {"argv item not string", R"({"type":"exec","argv":["a",1],"env":[],"cwd":"/","uid":0,"gid":0,"tty":false,"rows":1,"cols":1,"timeout_ms":0})",
       "expected a string"},
      {"invalid UTF-8", "{\"type\":\"event\",\"kind\":\"\xff\",\"detail\":\"\"}", "not valid JSON"},
      {"lone surrogate", R"({"type":"event","kind":"\ud800","detail":""})", "not valid JSON"},
      {"string over 16 KiB",
       R"({"type":"event","kind":"k","detail":")" + std::string(16 * 1024 + 1, 'a') + "\"}",
       "over 16384"},
      {"dir entry with slash",
       R"({"type":"dir_entries","entries":[{"name":"../x","file_type":"regular","size":1}]})",
       "must not contain '/'"},
      {"dir entry dotdot",
       R"({"type":"dir_entries","entries":[{"name":"..","file_type":"regular","size":1}]})",
       "file name"},
      {"dir entry extra field",
       R"({"type":"dir_entries","entries":[{"name":"a","file_type":"regular","size":1,"uid":0}]})",
       "unknown field"},
      {"deep nesting", R"({"type":"health","x":)" + deep(9) + "}", "nested deeper"},
      {"very deep nesting", deep(30000), "nested deeper"},
      // nlohmann stops reading at a NUL byte as if the input ended there:
      // what follows would be silently ignored, so the payload is refused.
      {"raw NUL then more", std::string(R"({"type":"health"})") + '\0' + "garbage", "NUL byte"},
      {"egress client too long",
       R"({"type":"egress_connected","kind":"proxy","client":")" + std::string(300, 'a') + R"("})",
       "longer than 256"},
      {"egress unknown kind", R"({"type":"egress_connected","kind":"udp","client":""})", "must be"},
      {"errno negative", R"({"type":"file_done","err":-1,"error":""})", "out of range"},
  };
}

TEST(WireMessages, MalformedPayloadsAreRejectedWithAReason) {
  for (const auto& c : bad_cases()) {
    SCOPED_TRACE(c.name);
    auto r = decode(c.json);
    ASSERT_FALSE(r.ok()) << "accepted: " << c.json.substr(0, 200);
    EXPECT_NE(r.error().message().find(c.error), std::string::npos) << r.error().message();
  }
}

TEST(WireMessages, CountBoundsAreEnforced) {
  std::string args = "[\"a\"";
  for (size_t i = 0; i < kMaxArgs; ++i) args += ",\"\"";
  args += "]";
  auto r = decode(R"({"type":"exec","argv":)" + args +
                  R"(,"env":[],"cwd":"/","uid":0,"gid":0,"tty":false,"rows":1,"cols":1,"timeout_ms":0})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("more than 4096"), std::string::npos);

  DirEntries many;
  many.entries.resize(kMaxDirEntriesPerMessage + 1, DirEntry{"f", FileType::kRegular, 0});
  auto d = decode(encode_message(many));
  ASSERT_FALSE(d.ok());
  many.entries.pop_back();
  EXPECT_TRUE(decode(encode_message(many)).ok());
}

TEST(WireMessages, OversizePayloadIsRejected) {
  std::string big = R"({"type":"event","kind":"k","detail":")" + std::string(70000, 'a') + "\"}";
  auto r = decode(big);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("payload over"), std::string::npos);
}

TEST(WireMessages, EncoderReplacesInvalidUtf8InsteadOfThrowing) {
  DirEntries d;
  d.entries = {{"caf\xe9", FileType::kRegular, 1}};
  auto r = decode(encode_message(d));
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(std::get<DirEntries>(*r).entries[0].name, "caf\xef\xbf\xbd");
}

}  // namespace
}  // namespace hull::wire
