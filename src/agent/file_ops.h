// One file stream: the FileRequest ops on paths inside the sandbox.
//
// Every reply ends with FileDone{err, error}; err is the errno (0 = success).
//   kStat   FileInfo (lstat: a symlink is described, not followed)
//   kRead   FileInfo, Data(kStdout)..., Eof(kStdout) — regular files only,
//           streamed in 64 KiB chunks under the host's credit
//   kWrite  Data(kStdin)... Eof(kStdin) from the host into a temp file next to
//           the target; fsync + rename on Eof, so an interrupted transfer
//           never leaves a torn file
//   kList   DirEntries batches (<= kMaxDirEntriesPerMessage, and small enough
//           for one frame)
//   kMkdir  (recursive = -p), kRemove (recursive = -r, never follows
//           symlinks), kRename
#pragma once

#include <memory>

#include <boost/asio/awaitable.hpp>

#include "agent/agent_state.h"
#include "wire/channel.h"
#include "wire/messages.h"

namespace hull::agent {

boost::asio::awaitable<void> serve_file(AgentState& state, std::shared_ptr<wire::Stream> stream,
                                        wire::FileRequest req);

// Shared by the file ops (file_ops.cc, file_transfer.cc).
namespace file_detail {
wire::FileDone done_ok();
wire::FileDone done_errno(int err, const std::string& what);
wire::FileInfo info_of(const struct ::stat& st);
// Send the final FileDone, finish, and hold the stream until the host is done
// with it too (dropping it earlier would reset it under the host's feet).
boost::asio::awaitable<void> finish_with(wire::Stream& stream, wire::FileDone done);
boost::asio::awaitable<void> read_file(wire::Stream& stream, const wire::FileRequest& req);
boost::asio::awaitable<void> write_file(wire::Stream& stream, const wire::FileRequest& req);
}  // namespace file_detail

}  // namespace hull::agent
