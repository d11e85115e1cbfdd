// Fake hull-agent for the namespace backend tests: runs as PID 1 inside the
// sandbox, reads one request line from fd 3 ("port=N"), then writes facts
// about its surroundings to fd 3 as "key=value" lines and exits.
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <string>

namespace {

std::string out;

void fact(const std::string& k, const std::string& v) { out += k + "=" + v + "\n"; }

std::string err_name(int rc_errno) { return rc_errno == 0 ? "ok" : strerrorname_np(rc_errno); }
std::string result(long rc) { return rc < 0 ? err_name(errno) : "ok"; }

std::string list_dir(const char* path, bool numeric_only) {
  std::string r;
  DIR* d = opendir(path);
  if (d == nullptr) return err_name(errno);
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    if (numeric_only && n.find_first_not_of("0123456789") != std::string::npos) continue;
    r += (r.empty() ? "" : ",") + n;
  }
  closedir(d);
  return r;
}

std::string status_field(const char* key) {
  FILE* f = fopen("/proc/self/status", "r");
  if (f == nullptr) return "?";
  char line[512];
  std::string r = "missing";
  size_t kl = strlen(key);
  while (fgets(line, sizeof line, f) != nullptr) {
    if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
      char* v = line + kl + 1;
      while (*v == ' ' || *v == '\t') ++v;
      r = v;
      if (!r.empty() && r.back() == '\n') r.pop_back();
    }
  }
  fclose(f);
  return r;
}

std::string try_write(const char* path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return err_name(errno);
  ssize_t n = write(fd, "probe\n", 6);
  close(fd);
  return n == 6 ? "ok" : err_name(errno);
}

std::string connect_tcp(int port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return err_name(errno);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  std::string r = rc < 0 ? err_name(errno) : "ok";
  close(s);
  return r;
}

// Loopback works inside: listen and connect to ourselves.
std::string loopback_self() {
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || listen(l, 1) < 0 ||
      getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) < 0)
    return err_name(errno);
  std::string r = connect_tcp(ntohs(a.sin_port));
  close(l);
  return r;
}

void* thread_main(void*) { return nullptr; }

}  // namespace

int main(int argc, char** argv) {
  char req[128]{};
  ssize_t n = read(3, req, sizeof req - 1);
  int port = 0;
  if (n > 0) sscanf(req, "port=%d", &port);

  fact("argv", argc == 3 ? std::string(argv[1]) + " " + argv[2] : "wrong");
  fact("pid", std::to_string(getpid()));
  fact("uid", std::to_string(getuid()) + "," + std::to_string(geteuid()));
  fact("gid", std::to_string(getgid()));
  utsname u{};
  uname(&u);
  fact("hostname", u.nodename);
  fact("procs", list_dir("/proc", true));
  fact("root", list_dir("/", false));
  fact("dev", list_dir("/dev", false));
  char cwd[256]{};
  fact("cwd", getcwd(cwd, sizeof cwd) != nullptr ? cwd : "?");
  struct stat st {};
  fact("etc_passwd_owner", stat("/etc/passwd", &st) == 0 ? std::to_string(st.st_uid) : err_name(errno));
  for (const char* masked : {"kcore", "sysrq-trigger", "timer_list", "keys"}) {
    std::string path = std::string("/proc/") + masked;
    fact(std::string("proc_") + masked,
         stat(path.c_str(), &st) == 0
             ? (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3) ? "masked" : "visible")
             : err_name(errno));
  }
  fact("oldroot", stat("/.oldroot", &st) == 0 ? "present" : err_name(errno));
  fact("write_etc", try_write("/etc/hull-probe"));
  fact("write_workspace", try_write("/workspace/hull-probe"));
  fact("write_proc_sys", try_write("/proc/sys/kernel/hostname"));
  fact("write_agent", try_write("/.hull/hull-agent"));
  char host[128]{};
  int hfd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
  if (hfd >= 0) {
    ssize_t r = read(hfd, host, sizeof host - 1);
    if (r > 0 && host[r - 1] == '\n') host[r - 1] = 0;
    close(hfd);
  }
  fact("etc_hostname", host);
  fact("connect_host", port > 0 ? connect_tcp(port) : "no-port");
  fact("loopback", loopback_self());
  fact("keyctl", result(syscall(SYS_keyctl, 0 /*KEYCTL_GET_KEYRING_ID*/, -3, 0)));
  fact("unshare", result(unshare(CLONE_NEWUSER)));
  fact("mount", result(mount("tmpfs", "/tmp", "tmpfs", 0, nullptr)));
  fact("ptrace", result(ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)));
  fact("clone3", result(syscall(SYS_clone3, nullptr, 0)));
  fact("personality", result(personality(PER_LINUX32)));
  fact("getpid", result(syscall(SYS_getpid)));
  pthread_t t;
  int pe = pthread_create(&t, nullptr, thread_main, nullptr);
  if (pe == 0) pthread_join(t, nullptr);
  fact("thread", err_name(pe));
  for (const char* k : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"})
    fact(k, status_field(k));
  rlimit rl{};
  getrlimit(RLIMIT_CORE, &rl);
  fact("rlimit_core", std::to_string(rl.rlim_cur));
  fact("fd0", [] {
    char l[64]{};
    return readlink("/proc/self/fd/0", l, sizeof l - 1) > 0 ? std::string(l) : err_name(errno);
  }());
  fact("fds", list_dir("/proc/self/fd", false));
  // Landlock: a path outside the new root cannot be reached; try the host's
  // /proc/1/root which in our pid namespace is ourselves — so instead check
  // opening our own root works (the rule allows everything beneath it).
  fact("open_root", result(open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)));
  out += "end\n";
  size_t done = 0;
  while (done < out.size()) {
    ssize_t w = write(3, out.data() + done, out.size() - done);
    if (w <= 0) return 1;
    done += static_cast<size_t>(w);
  }
  return 0;
}
