#include "base/command.h"

#include <fcntl.h>

#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>

#include "base/fd.h"
#include "base/log.h"
#include "base/sys.h"

extern char** environ;

namespace hull {

Command::Command(std::string program) { argv_.push_back(std::move(program)); }
Command& Command::arg(std::string a) {
  argv_.push_back(std::move(a));
  return *this;
}
Command& Command::args(const std::vector<std::string>& as) {
  argv_.insert(argv_.end(), as.begin(), as.end());
  return *this;
}
Command& Command::env(std::string kv) {
  env_.push_back(std::move(kv));
  return *this;
}
Command& Command::cwd(std::string dir) {
  cwd_ = std::move(dir);
  return *this;
}

Command& Command::stdin_from(std::string path) {
  stdin_path_ = std::move(path);
  return *this;
}
Command& Command::capture_stdout(size_t max_bytes) {
  capture_max_ = max_bytes;
  return *this;
}
Command& Command::stream_stderr_to(int fd) {
  stderr_copy_fd_ = fd;
  return *this;
}
Command& Command::allow_failure() {
  allow_failure_ = true;
  return *this;
}

std::string Command::display() const {
  std::string s;
  for (const auto& a : argv_) {
    if (!s.empty()) s += ' ';
    s += a;
  }
  return s;
}

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = ::getenv("PATH");
  std::string p = path != nullptr ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string cand = p.substr(start, end - start) + "/" + name;
    if (::access(cand.c_str(), X_OK) == 0) return cand;
    start = end + 1;
  }
  return "";
}

Command& Command::stdout_to_file(std::string path, uint64_t max_bytes) {
  stdout_path_ = std::move(path);
  stdout_file_max_ = max_bytes;
  return *this;
}

Result<CommandOutput> Command::run() const {
  log::debug("exec: {}", display());
  std::string prog = find_program(argv_[0]);
  if (prog.empty()) return make_error("run " + argv_[0], "program not found in PATH (install it, see hull doctor)");

  HULL_ASSIGN(auto errp, sys::pipe());
  std::optional<sys::FdPair> outp;
  UniqueFd out_file;
  if (stdout_path_) {
    HULL_ASSIGN(out_file, sys::open(*stdout_path_, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  }
  uint64_t out_file_bytes = 0;
  bool out_file_overflow = false;
  if (capture_max_ || stdout_path_) {
    HULL_ASSIGN(auto p, sys::pipe());
    outp = std::move(p);
  }

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, errp.second.get(), 2);
  if (outp) posix_spawn_file_actions_adddup2(&fa, outp->second.get(), 1);
  if (cwd_) posix_spawn_file_actions_addchdir_np(&fa, cwd_->c_str());
  if (stdin_path_) posix_spawn_file_actions_addopen(&fa, 0, stdin_path_->c_str(), O_RDONLY, 0);

  std::vector<char*> argv;
  for (const auto& a : argv_) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) envs.emplace_back(*e);
  for (const auto& e : env_) envs.push_back(e);
  std::vector<char*> envp;
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  int rc = posix_spawn(&pid, prog.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return sys_error("spawn " + argv_[0], rc);
  errp.second.reset();
  if (outp) outp->second.reset();

  CommandOutput result;
  constexpr size_t kTail = 4096;
  std::string err_all;
  bool err_open = true, out_open = outp.has_value();
  char buf[8192];
  while (err_open || out_open) {
    pollfd pfds[2];
    int n = 0;
    if (err_open) pfds[n++] = {errp.first.get(), POLLIN, 0};
    if (out_open) pfds[n++] = {outp->first.get(), POLLIN, 0};
    if (::poll(pfds, static_cast<nfds_t>(n), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < n; ++i) {
      if ((pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t got = ::read(pfds[i].fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      bool is_err = err_open && pfds[i].fd == errp.first.get();
      if (got <= 0) {
        (is_err ? err_open : out_open) = false;
        continue;
      }
      if (is_err) {
        if (stderr_copy_fd_ >= 0) (void)sys::write_all(stderr_copy_fd_, std::string_view(buf, got));
        err_all.append(buf, got);
        if (err_all.size() > 2 * kTail) err_all.erase(0, err_all.size() - kTail);
      } else if (out_file) {
        out_file_bytes += static_cast<uint64_t>(got);
        if (out_file_bytes > stdout_file_max_) {
          if (!out_file_overflow) ::kill(pid, SIGKILL);
          out_file_overflow = true;
        } else if (auto w = sys::write_all(out_file.get(), std::string_view(buf, got)); !w) {
          ::kill(pid, SIGKILL);
          return w.error();
        }
      } else if (result.out.size() + static_cast<size_t>(got) <= *capture_max_) {
        result.out.append(buf, got);
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (out_file_overflow)
    return make_error(argv_[0] + " wrote more than " + std::to_string(stdout_file_max_) + " bytes to " +
                          *stdout_path_,
                      "it was stopped there");
  result.err_tail = err_all.size() > kTail ? err_all.substr(err_all.size() - kTail) : err_all;
  if (result.exit_code != 0 && !allow_failure_) {
    std::string tail = result.err_tail;
    while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
    size_t nl = tail.rfind('\n');
    std::string last = nl == std::string::npos ? tail : tail.substr(nl + 1);
    return make_error(argv_[0] + " exited with " + std::to_string(result.exit_code), last);
  }
  return result;
}

}  // namespace hull
