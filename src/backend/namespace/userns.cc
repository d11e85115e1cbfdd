#include "backend/namespace/userns.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "base/sys.h"

namespace hull::backend::ns {

Status write_id_maps(pid_t pid, const IdMapping& m) {
  std::string line = "0 " + std::to_string(m.host_base) + " " + std::to_string(m.count) + "\n";
  for (const char* which : {"uid_map", "gid_map"}) {
    std::string path = "/proc/" + std::to_string(pid) + "/" + which;
    HULL_ASSIGN(UniqueFd fd, sys::open(path, O_WRONLY));
    auto w = sys::write_all(fd.get(), line);
    if (!w) return sys_error("write " + path, w.error().err, "cannot map sandbox ids");
  }
  return ok_status();
}

Result<UniqueFd> open_userns(pid_t pid) {
  return sys::open("/proc/" + std::to_string(pid) + "/ns/user", O_RDONLY);
}

Result<UniqueFd> single_id_userns(OneId uid, OneId gid) {
  HULL_ASSIGN(sys::FdPair hold, sys::pipe(O_CLOEXEC));
  // A raw clone (fork semantics) into a new user namespace. The child only
  // blocks on the pipe and exits: nothing that is unsafe after fork in a
  // threaded process.
  long pid = ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) return sys_error("clone (user namespace for an idmapped mount)", errno,
                                "is userns enabled? see hull doctor");
  if (pid == 0) {
    ::close(hold.second.get());  // our copy of the write end, or EOF never comes
    char c;
    (void)::read(hold.first.get(), &c, 1);  // returns at EOF: the parent is done
    ::_exit(0);
  }
  hold.first.reset();
  struct Reap {
    pid_t pid;
    UniqueFd* hold;
    ~Reap() {
      hold->reset();  // EOF: the child exits
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  } reap{static_cast<pid_t>(pid), &hold.second};
  const std::string proc = "/proc/" + std::to_string(pid);
  for (auto [file, id] : {std::pair{"/uid_map", uid}, std::pair{"/gid_map", gid}}) {
    std::string line = std::to_string(id.inside) + " " + std::to_string(id.outside) + " 1\n";
    HULL_ASSIGN(UniqueFd fd, sys::open(proc + file, O_WRONLY | O_CLOEXEC));
    if (auto w = sys::write_all(fd.get(), line); !w)
      return sys_error("write " + proc + file, w.error().err, "cannot map the workspace owner");
  }
  return open_userns(static_cast<pid_t>(pid));
}

Result<UniqueFd> idmapped_clone(const std::string& path, int userns_fd, uint64_t extra_attrs,
                                bool recursive) {
  unsigned rec = recursive ? AT_RECURSIVE : 0;
  int fd = ::open_tree(AT_FDCWD, path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
  if (fd < 0) return sys_error("open_tree " + path);
  UniqueFd tree(fd);
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_IDMAP | extra_attrs;
  attr.userns_fd = static_cast<uint64_t>(userns_fd);
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | rec, &attr, sizeof attr) < 0) {
    return sys_error("idmap mount " + path, errno,
                     "the filesystem must support idmapped mounts (ext4, xfs, btrfs, tmpfs; "
                     "kernel >= 5.19); see hull doctor");
  }
  return tree;
}

}  // namespace hull::backend::ns
