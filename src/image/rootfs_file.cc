#include "image/rootfs_file.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>

#include "base/fd.h"
#include "base/sys.h"

namespace hull::image {

Result<std::optional<std::string>> read_rootfs_file(const std::string& rootfs, const std::string& rel,
                                                    size_t max_bytes) {
  const std::string shown = "read the image's /" + rel;
  HULL_ASSIGN(UniqueFd root, sys::open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  struct open_how how {};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;  // a FIFO planted there must not block us
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, root.get(), rel.c_str(), &how, sizeof how);
  if (fd < 0 && errno == ENOENT) return std::optional<std::string>{};
  if (fd < 0) return sys_error(shown);
  UniqueFd f(static_cast<int>(fd));
  struct stat st {};
  if (::fstat(f.get(), &st) < 0) return sys_error(shown);
  if (!S_ISREG(st.st_mode)) return make_error(shown, "not a regular file");
  std::string out;
  std::array<std::byte, 65536> buf{};
  for (;;) {
    HULL_ASSIGN(size_t n, sys::read_some(f.get(), buf));
    if (n == 0) break;
    if (out.size() + n > max_bytes)
      return make_error(shown, "larger than " + std::to_string(max_bytes >> 20) + " MiB");
    out.append(reinterpret_cast<const char*>(buf.data()), n);
  }
  return std::optional<std::string>(std::move(out));
}

}  // namespace hull::image
