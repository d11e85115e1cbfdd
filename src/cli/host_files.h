// The host side of `hull cp`: what an upload may read and where a download
// may write. The user typed these paths, but they often lie in a workspace
// the sandbox writes too, and the CLI may be root: a symlink on them could be
// the sandbox's, pointing at any host file. So none is followed — a
// symlinked directory on the path is refused (openat2 RESOLVE_NO_SYMLINKS),
// a symlink at a download's target is replaced, never written through.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/fd.h"
#include "base/result.h"

namespace hull::cli {

// The file an upload sends: a regular file, reached without any symlink.
struct UploadSource {
  UniqueFd fd;
  mode_t mode = 0644;
};
Result<UploadSource> open_upload_source(const std::string& path);

// Bytes that must stay free on a download's filesystem after it is written:
// 5% of the filesystem, at most 1 GiB.
uint64_t free_space_floor(uint64_t filesystem_bytes);

// One download into a host file. Usage:
//   1. prepare(dst, src_name): opens DST's directory without symlinks; when
//      DST is itself a directory, the file is src_name inside it.
//   2. begin(size, mode), once the sandbox announced the file: refuses a size
//      that would leave the filesystem under free_space_floor(), then
//      creates the temp file .hull-cp-XXXXXX next to the target
//      (O_CREAT|O_EXCL|O_NOFOLLOW; mode without setuid/setgid/sticky, umask
//      applied).
//   3. write(bytes): the caller keeps the total within the announced size.
//   4. commit(): fsync, then rename over the target — a symlink there is
//      replaced, not followed — and fsync the directory.
// Destroyed before commit() (an error, an abort): the temp file is removed
// and the target is as it was.
class HostDownload {
 public:
  static Result<HostDownload> prepare(const std::string& dst, const std::string& src_name);
  HostDownload(HostDownload&& o) noexcept;
  HostDownload& operator=(HostDownload&&) = delete;
  ~HostDownload();

  Status begin(uint64_t size, uint32_t mode);
  Status write(std::span<const std::byte> bytes);
  Status commit();
  const std::string& target() const { return shown_; }  // for messages

 private:
  HostDownload(UniqueFd dir, std::string name, std::string shown)
      : dir_(std::move(dir)), name_(std::move(name)), shown_(std::move(shown)) {}
  UniqueFd dir_;       // the target's directory, reached without symlinks
  std::string name_;   // the target's name in dir_
  std::string shown_;  // the target as the user would name it
  std::string temp_;   // the temp file's name in dir_ while it exists
  UniqueFd file_;
};

}  // namespace hull::cli
