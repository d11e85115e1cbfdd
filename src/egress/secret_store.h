// The secret store: API keys and tokens the egress process injects into
// requests (`hull secret set/ls/rm`, `--credential`). Values stay on the host;
// a sandbox only ever sees a placeholder (ARCHITECTURE.md "Trust boundaries").
//
// Layout: <data dir>/secrets/ (0700), one file per secret named after it
// (0600), written as temp file + fsync + rename, so a crash leaves the old
// value or the new one. Every operation first checks the directory: ours,
// and no access at all for group or others; the path to it must be ours or
// root's and writable by no one else (base/private_dir.h). Secret files are
// opened with O_NOFOLLOW and must be regular, ours and 0600.
//
// Errors name the secret, never its value.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/secret_bytes.h"
#include "policy/credential_rules.h"

namespace hull::egress {

inline constexpr size_t kMaxSecretBytes = 64 * 1024;

// [a-z0-9][a-z0-9_-]{0,63} (policy/credential_rules.h, where templates name
// secrets): also the file name, so never "." or "..", and a temp file
// (".tmp-...") can never be mistaken for a secret.
using policy::valid_secret_name;
// The name's error ("secret name 'X' ...: use ..."), for a refused name.
Error invalid_secret_name(std::string_view name);

// Reads a value as `hull secret set` takes it: at most kMaxSecretBytes after
// one trailing line ending ("\n" or "\r\n", what `echo` or an editor adds)
// is dropped; empty values and NUL bytes are refused. `what` names the
// source in errors ("stdin", the file's path). kFirstLine stops at the first
// newline (a value typed at a terminal); kEnd reads to end of file.
enum class ReadUntil { kEnd, kFirstLine };
Result<SecretBytes> read_secret_value(int fd, const std::string& what,
                                      ReadUntil until = ReadUntil::kEnd);
// The same rules for a value already in memory (no line ending dropped).
Status check_secret_value(std::string_view value);

struct SecretEntry {
  std::string name;
  std::time_t modified = 0;
};

class SecretStore {
 public:
  // paths::data_dir() + "/secrets" (HULL_HOME moves it).
  static std::string default_dir();
  explicit SecretStore(std::string dir = default_dir()) : dir_(std::move(dir)) {}

  // Creates or replaces. Creates the directory (0700) when missing.
  Status set(std::string_view name, std::string_view value);
  // Error::err is ENOENT when there is no such secret.
  Result<SecretBytes> get(std::string_view name) const;
  // Sorted by name; empty when the directory does not exist yet.
  Result<std::vector<SecretEntry>> list() const;
  // Error::err is ENOENT when there is no such secret.
  Status remove(std::string_view name);

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

}  // namespace hull::egress
