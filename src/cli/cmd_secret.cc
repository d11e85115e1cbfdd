// `hull secret set|ls|rm`: the host's store of API keys and tokens that
// `--credential` rules inject on the way out (egress/secret_store.h).
// No command here ever prints a value: not on success, not in an error.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "base/sys.h"
#include "cli/commands.h"
#include "cli/hidden_input.h"
#include "cli/output.h"
#include "egress/secret_store.h"
#include "policy/credential_rules.h"

namespace hull::cli {

namespace {

constexpr size_t kMaxTerminalLine = 4095;  // N_TTY's canonical line buffer, less the newline

std::string rfc3339(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool is_provider(const std::string& name) {
  for (const auto& p : policy::builtin_providers())
    if (p.name == name) return true;
  return false;
}

// The value: from the file, typed at the terminal (hidden), or piped in.
Result<SecretBytes> read_value(const std::string& name, const std::string& from_file) {
  if (!from_file.empty()) {
    // Followed like `cat` would: the user named it. A FIFO is fine
    // (--from-file <(pass show anthropic)).
    HULL_ASSIGN(UniqueFd fd, sys::open(from_file, O_RDONLY | O_NOCTTY));
    return egress::read_secret_value(fd.get(), from_file);
  }
  if (::isatty(STDIN_FILENO) == 0) return egress::read_secret_value(STDIN_FILENO, "stdin");
  auto value = [&] {
    HiddenInput hidden(STDIN_FILENO);  // before the prompt: nothing typed after it shows
    std::fprintf(stderr, "hull: type the value of secret '%s' and press Enter (it is not shown): ",
                 name.c_str());
    std::fflush(stderr);
    return egress::read_secret_value(STDIN_FILENO, "the terminal", egress::ReadUntil::kFirstLine);
  }();
  std::fprintf(stderr, "\n");
  // A terminal line holds at most 4095 characters and silently drops the
  // rest: a longer paste would be stored cut short.
  if (value && value->size() >= kMaxTerminalLine)
    return make_error("the value typed is too long for a terminal line (it may have been cut)",
                      "use --from-file or a pipe");
  return value;
}

}  // namespace

int cmd_secret_set(const std::string& name, const std::string& from_file) {
  if (!egress::valid_secret_name(name)) return fail(egress::invalid_secret_name(name));
  auto value = read_value(name, from_file);
  if (!value) return fail(value.error());
  egress::SecretStore store;
  if (auto st = store.set(name, value->view()); !st) return fail(st.error());
  const std::string use = is_provider(name)
                              ? "--credential " + name
                              : "--credential 'HOST=HEADER:...{secret:" + name + "}...'";
  std::fprintf(stderr,
               "hull: saved secret '%s' (hull run %s sends it; the sandbox sees a placeholder)\n",
               name.c_str(), use.c_str());
  return 0;
}

int cmd_secret_ls(bool json) {
  egress::SecretStore store;
  auto list = store.list();
  if (!list) return fail(list.error());
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& e : *list)
      arr.push_back({{"name", e.name}, {"modified", rfc3339(e.modified)}});
    print_json(arr);
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"NAME", "MODIFIED"}};
  for (const auto& e : *list) rows.push_back({e.name, relative_time(rfc3339(e.modified))});
  print_table(rows);
  return 0;
}

int cmd_secret_rm(const std::vector<std::string>& names) {
  egress::SecretStore store;
  int rc = 0;
  for (const auto& name : names) {
    if (auto st = store.remove(name); !st)
      rc = fail(st.error());
    else
      std::printf("%s\n", name.c_str());
  }
  return rc;
}

}  // namespace hull::cli
