#include "agent/spawn.h"

#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "agent/pty.h"
#include "base/sys.h"

namespace hull::agent {
namespace {

// Used when the request's environment has no PATH (same as Debian's login.defs).
constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Everything the child needs, built before fork so the child only calls
// async-signal-safe functions.
struct Prepared {
  std::vector<std::string> candidates;  // argv[0] resolved against PATH, in order
  std::vector<char*> argv;
  std::vector<char*> envp;
};

std::string path_of(const std::vector<std::string>& env) {
  for (const auto& e : env)
    if (e.rfind("PATH=", 0) == 0) return e.substr(5);
  return kDefaultPath;
}

Prepared prepare(const wire::ExecRequest& req) {
  Prepared p;
  const std::string& name = req.argv[0];
  if (name.find('/') != std::string::npos) {
    p.candidates.push_back(name);
  } else {
    // execvpe semantics, but with the request's PATH (the agent's own PATH is
    // irrelevant to the sandboxed command). An empty element means ".".
    std::string path = path_of(req.env);
    size_t start = 0;
    while (true) {
      size_t end = path.find(':', start);
      std::string dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
      p.candidates.push_back((dir.empty() ? std::string(".") : dir) + "/" + name);
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  for (const auto& a : req.argv) p.argv.push_back(const_cast<char*>(a.c_str()));
  p.argv.push_back(nullptr);
  for (const auto& e : req.env) p.envp.push_back(const_cast<char*>(e.c_str()));
  p.envp.push_back(nullptr);
  return p;
}

[[noreturn]] void fail(int fd, ChildStep step) {
  ChildReport r{step, errno};
  // Best effort: if even this write fails the parent sees a bare EOF plus an
  // exit status of 127, and reports a generic failure.
  (void)!::write(fd, &r, sizeof r);
  ::_exit(127);
}

// Runs in the child. Async-signal-safe calls only; a straight list of steps.
[[noreturn]] void child_main(const wire::ExecRequest& req, const Prepared& p, int report_fd,
                             int in_fd, int out_fd, int err_fd, bool tty) {
  // The agent's SIGCHLD/SIGTERM handlers and ignored SIGPIPE must not leak
  // into the command; dispositions first, then unblock (the parent blocked
  // everything around fork so no handler ran in this child).
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) (void)::sigaction(s, &dfl, nullptr);  // EINVAL for KILL/STOP: fine
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) < 0) fail(report_fd, ChildStep::kSignals);

  // Own session and process group: signals, timeouts and shutdown address the
  // whole group with kill(-pgid).
  if (::setsid() < 0) fail(report_fd, ChildStep::kSetsid);
  if (tty && ::ioctl(in_fd, TIOCSCTTY, 0) < 0) fail(report_fd, ChildStep::kTerminal);
  if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0)
    fail(report_fd, ChildStep::kStdio);

  // Change identity only when asked for a different one: an unprivileged
  // agent can still run commands as itself.
  if (req.uid != ::getuid() || req.gid != ::getgid()) {
    gid_t g = req.gid;
    if (::setgroups(1, &g) < 0) fail(report_fd, ChildStep::kGroups);
    if (::setresgid(g, g, g) < 0) fail(report_fd, ChildStep::kGid);
    if (::setresuid(req.uid, req.uid, req.uid) < 0) fail(report_fd, ChildStep::kUid);
  }
  // In a namespace sandbox the agent holds only CAP_SETUID/SETGID/SETPCAP
  // (backend/namespace/child_setup.cc) and no CAP_SYS_ADMIN. A command that
  // stays root gets none of them: they leave its bounding set here, so its
  // exec gains nothing (one that changed uid above lost them already). In a
  // microVM the agent is the guest's root with every capability, and a root
  // command keeps root's usual set.
  if (::getuid() == 0 && ::prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) == 0) {
    for (int cap : {CAP_SETUID, CAP_SETGID, CAP_SETPCAP}) {  // SETPCAP last: it is what allows dropping
      if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) fail(report_fd, ChildStep::kGroups);
    }
  }
  if (::chdir(req.cwd.c_str()) < 0) fail(report_fd, ChildStep::kChdir);

  // Like execvpe: remember EACCES but keep looking; ENOENT/ENOTDIR just mean
  // "not in this directory"; anything else is the answer.
  int saved = ENOENT;
  for (const auto& c : p.candidates) {
    ::execve(c.c_str(), p.argv.data(), p.envp.data());
    if (errno == EACCES) saved = EACCES;
    else if (errno != ENOENT && errno != ENOTDIR) break;
  }
  if (errno == ENOENT || errno == ENOTDIR) errno = saved;
  fail(report_fd, ChildStep::kExec);
}

const char* step_name(ChildStep s) {
  switch (s) {
    case ChildStep::kSignals: return "reset signals";
    case ChildStep::kSetsid: return "setsid";
    case ChildStep::kTerminal: return "set controlling terminal";
    case ChildStep::kStdio: return "set up stdio";
    case ChildStep::kGroups: return "setgroups";
    case ChildStep::kGid: return "setresgid";
    case ChildStep::kUid: return "setresuid";
    case ChildStep::kChdir: return "chdir";
    case ChildStep::kExec: return "exec";
  }
  return "?";
}

}  // namespace

Result<Child> start_child(const wire::ExecRequest& req) {
  Prepared p = prepare(req);
  HULL_ASSIGN(auto report, sys::pipe(O_CLOEXEC));

  // The child-side ends live in `keep` until after fork; the parent closes them.
  Child c;
  UniqueFd child_in, child_out, child_err;
  if (req.tty) {
    HULL_ASSIGN(auto pty, open_pty(req.rows, req.cols));
    c.pty_master = std::move(pty.master);
    child_in = std::move(pty.slave);
  } else {
    HULL_ASSIGN(auto in, sys::pipe(O_CLOEXEC));
    HULL_ASSIGN(auto out, sys::pipe(O_CLOEXEC));
    HULL_ASSIGN(auto err, sys::pipe(O_CLOEXEC));
    child_in = std::move(in.first);
    c.stdin_w = std::move(in.second);
    c.stdout_r = std::move(out.first);
    child_out = std::move(out.second);
    c.stderr_r = std::move(err.first);
    child_err = std::move(err.second);
  }
  const int in_fd = child_in.get();
  const int out_fd = req.tty ? in_fd : child_out.get();
  const int err_fd = req.tty ? in_fd : child_err.get();

  // Block every signal across fork so none of the agent's handlers (Asio's
  // self-pipe writers) can run in the child before it resets them.
  sigset_t all, old;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, &old);
  pid_t pid = ::fork();
  if (pid == 0) child_main(req, p, report.second.get(), in_fd, out_fd, err_fd, req.tty);
  int fork_errno = errno;
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return sys_error("fork", fork_errno);

  c.pid = pid;
  c.error_pipe = std::move(report.first);
  // report.second and the child ends close here: the parent must not hold
  // the write ends, or EOF (exec succeeded / output finished) never comes.
  return c;
}

SpawnFailure describe_failure(const ChildReport& r, const wire::ExecRequest& req) {
  SpawnFailure f;
  const std::string why = std::strerror(r.err);
  switch (r.step) {
    case ChildStep::kExec:
      if (r.err == ENOENT || r.err == ENOTDIR) {
        f.kind = wire::SpawnError::kNotFound;
        f.message = req.argv[0] + ": command not found" +
                    (req.argv[0].find('/') == std::string::npos ? " in PATH=" + path_of(req.env) : "");
      } else if (r.err == EACCES || r.err == ENOEXEC || r.err == EISDIR || r.err == EPERM) {
        f.kind = wire::SpawnError::kNotExecutable;
        f.message = req.argv[0] + ": not executable (" + why + ")";
      } else {
        f.message = "exec " + req.argv[0] + ": " + why;
      }
      break;
    case ChildStep::kChdir:
      f.message = "chdir " + req.cwd + ": " + why;
      break;
    case ChildStep::kSignals:
    case ChildStep::kSetsid:
    case ChildStep::kTerminal:
    case ChildStep::kStdio:
    case ChildStep::kGroups:
    case ChildStep::kGid:
    case ChildStep::kUid:
      f.message = std::string(step_name(r.step)) + ": " + why;
      break;
  }
  // Bounded: a PATH can be long, and the message must fit the wire's limit.
  if (f.message.size() > 4096) f.message.resize(4096);
  return f;
}

}  // namespace hull::agent
