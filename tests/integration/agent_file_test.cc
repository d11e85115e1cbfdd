// hull-agent file streams: stat/read/write/list/mkdir/remove/rename, with
// content streamed under flow control and atomic writes.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "agent_harness.h"
#include "base/temp_dir.h"

namespace hull::agent_test {
namespace {

struct FileOutcome {
  std::vector<wire::FileInfo> infos;
  std::vector<wire::DirEntry> entries;
  size_t batches = 0;
  std::string content;
  bool eof = false;
  std::optional<wire::FileDone> done;
  std::string problem;
};

wire::FileRequest file_req(wire::FileOp op, std::string path) {
  wire::FileRequest r;
  r.op = op;
  r.path = std::move(path);
  return r;
}

asio::awaitable<void> collect_file(wire::Stream& s, FileOutcome& o) {
  while (!o.done) {
    auto in = co_await s.receive();
    switch (in.kind) {
      case wire::Incoming::Kind::kMessage:
        if (auto* i = std::get_if<wire::FileInfo>(&in.message)) o.infos.push_back(*i);
        else if (auto* d = std::get_if<wire::DirEntries>(&in.message)) {
          ++o.batches;
          o.entries.insert(o.entries.end(), d->entries.begin(), d->entries.end());
        } else if (auto* f = std::get_if<wire::FileDone>(&in.message)) o.done = *f;
        else o.problem = std::string("unexpected ") + wire::message_name(in.message);
        break;
      case wire::Incoming::Kind::kData:
        o.content.append(reinterpret_cast<const char*>(in.data.data()), in.data.size());
        s.consume(in.data.size());
        break;
      case wire::Incoming::Kind::kEof:
        o.eof = true;
        break;
      case wire::Incoming::Kind::kReset:
      case wire::Incoming::Kind::kClosed:
        o.problem = in.reason;
        co_return;
    }
  }
}

asio::awaitable<FileOutcome> file_op(wire::Channel& ch, wire::FileRequest req) {
  FileOutcome o;
  auto s = co_await ch.open(req);
  if (!s) {
    o.problem = s.error().message();
    co_return o;
  }
  co_await collect_file(**s, o);
  (*s)->finish();
  co_return o;
}

asio::awaitable<FileOutcome> write_file(wire::Channel& ch, const std::string& path, const std::string& content,
                                        uint32_t mode = 0644, bool send_eof = true) {
  FileOutcome o;
  auto req = file_req(wire::FileOp::kWrite, path);
  req.mode = mode;
  auto s = co_await ch.open(req);
  if (!s) {
    o.problem = s.error().message();
    co_return o;
  }
  // send_data splits into frames and waits for credit as the agent consumes.
  auto st = co_await (*s)->send_data(wire::StreamFd::kStdin, as_bytes(content));
  if (!st.ok()) o.problem = st.error().message();
  if (!send_eof) {
    (*s)->reset("test aborts the upload");
    co_return o;
  }
  (void)co_await (*s)->send_eof(wire::StreamFd::kStdin);
  co_await collect_file(**s, o);
  (*s)->finish();
  co_return o;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class AgentFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::create("/tmp", "agent-files-");
    ASSERT_TRUE(d.ok());
    dir_ = std::make_unique<TempDir>(std::move(*d));
  }
  std::string path(const std::string& rel) const { return dir_->path() + "/" + rel; }
  std::unique_ptr<TempDir> dir_;
};

TEST_F(AgentFiles, WrittenFileReadsBackWithItsModeAndSize) {
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    auto w = co_await write_file(h.channel(), path("hello.txt"), "hello, sandbox\n", 0640);
    CO_ASSERT_TRUE(w.done.has_value()) << w.problem;
    EXPECT_EQ(w.done->err, 0) << w.done->error;
    auto st = co_await file_op(h.channel(), file_req(wire::FileOp::kStat, path("hello.txt")));
    CO_ASSERT_TRUE(st.done.has_value()) << st.problem;
    CO_ASSERT_EQ(st.infos.size(), 1u);
    EXPECT_EQ(st.infos[0].type, wire::FileType::kRegular);
    EXPECT_EQ(st.infos[0].size, 15u);
    EXPECT_EQ(st.infos[0].mode, 0640u);
    auto r = co_await file_op(h.channel(), file_req(wire::FileOp::kRead, path("hello.txt")));
    CO_ASSERT_TRUE(r.done.has_value()) << r.problem;
    EXPECT_EQ(r.done->err, 0);
    EXPECT_TRUE(r.eof);
    EXPECT_EQ(r.content, "hello, sandbox\n");
  });
  EXPECT_EQ(slurp(path("hello.txt")), "hello, sandbox\n");
}

TEST_F(AgentFiles, FiftyMegabyteFileRoundTripsIntact) {
  std::string content(50u << 20, '\0');
  std::mt19937_64 rng(42);
  for (size_t i = 0; i + 8 <= content.size(); i += 8) {
    uint64_t v = rng();
    std::memcpy(content.data() + i, &v, 8);
  }
  AgentHarness h;
  double write_s = 0, read_s = 0;
  h.run([&]() -> asio::awaitable<void> {
    auto t0 = std::chrono::steady_clock::now();
    auto w = co_await write_file(h.channel(), path("big.bin"), content);
    write_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CO_ASSERT_TRUE(w.done.has_value()) << w.problem;
    EXPECT_EQ(w.done->err, 0) << w.done->error;
    t0 = std::chrono::steady_clock::now();
    auto r = co_await file_op(h.channel(), file_req(wire::FileOp::kRead, path("big.bin")));
    read_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CO_ASSERT_TRUE(r.done.has_value()) << r.problem;
    CO_ASSERT_EQ(r.infos.size(), 1u);
    EXPECT_EQ(r.infos[0].size, content.size());
    EXPECT_EQ(r.content.size(), content.size());
    EXPECT_TRUE(r.content == content);
  }, 300s);
  EXPECT_TRUE(slurp(path("big.bin")) == content);
  std::printf("[ agent ] 50 MiB file: write %.1f MiB/s, read %.1f MiB/s\n", 50 / write_s, 50 / read_s);
}

TEST_F(AgentFiles, AbortedUploadLeavesNoFileBehind) {
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    (void)co_await write_file(h.channel(), path("partial.bin"), std::string(100000, 'x'), 0644, false);
    // A later op on the same channel proves the agent handled the reset.
    auto l = co_await file_op(h.channel(), file_req(wire::FileOp::kList, dir_->path()));
    CO_ASSERT_TRUE(l.done.has_value()) << l.problem;
    EXPECT_TRUE(l.entries.empty()) << l.entries.size() << " entries, first " << l.entries[0].name;
  });
  EXPECT_FALSE(::access(path("partial.bin").c_str(), F_OK) == 0);
}

TEST_F(AgentFiles, ListingComesInBoundedBatches) {
  for (int i = 0; i < 600; ++i) std::ofstream(path("f" + std::to_string(i))) << i;
  ::mkdir(path("sub").c_str(), 0755);
  ::symlink("f1", path("link").c_str());
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    auto l = co_await file_op(h.channel(), file_req(wire::FileOp::kList, dir_->path()));
    CO_ASSERT_TRUE(l.done.has_value()) << l.problem;
    EXPECT_EQ(l.done->err, 0);
    EXPECT_EQ(l.entries.size(), 602u);
    EXPECT_GE(l.batches, 3u);
    int dirs = 0, links = 0;
    for (auto& e : l.entries) {
      dirs += e.type == wire::FileType::kDirectory;
      links += e.type == wire::FileType::kSymlink;
    }
    EXPECT_EQ(dirs, 1);
    EXPECT_EQ(links, 1);
  });
}

TEST_F(AgentFiles, MkdirRenameAndRecursiveRemoveWork) {
  std::ofstream(path("outside")) << "keep me";
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    auto mk = file_req(wire::FileOp::kMkdir, path("a/b/c"));
    mk.recursive = true;
    mk.mode = 0755;
    auto m = co_await file_op(h.channel(), mk);
    CO_ASSERT_TRUE(m.done.has_value()) << m.problem;
    EXPECT_EQ(m.done->err, 0) << m.done->error;
    auto w = co_await write_file(h.channel(), path("a/b/c/file"), "x");
    EXPECT_EQ(w.done->err, 0);
    auto rn = file_req(wire::FileOp::kRename, path("a/b"));
    rn.to = path("a/renamed");
    auto r = co_await file_op(h.channel(), rn);
    EXPECT_EQ(r.done->err, 0) << r.done->error;
    EXPECT_EQ(::access(path("a/renamed/c/file").c_str(), F_OK), 0);
    // A symlink inside the tree must be removed, not followed.
    ::symlink(path("outside").c_str(), path("a/renamed/c/escape").c_str());
    auto rm = file_req(wire::FileOp::kRemove, path("a"));
    auto not_recursive = co_await file_op(h.channel(), rm);
    EXPECT_EQ(not_recursive.done->err, ENOTEMPTY);
    rm.recursive = true;
    auto gone = co_await file_op(h.channel(), rm);
    EXPECT_EQ(gone.done->err, 0) << gone.done->error;
  });
  EXPECT_NE(::access(path("a").c_str(), F_OK), 0);
  EXPECT_EQ(slurp(path("outside")), "keep me");
}

TEST_F(AgentFiles, ErrorsComeBackAsErrnoWithText) {
  AgentHarness h;
  h.run([&]() -> asio::awaitable<void> {
    auto st = co_await file_op(h.channel(), file_req(wire::FileOp::kStat, path("missing")));
    CO_ASSERT_TRUE(st.done.has_value()) << st.problem;
    EXPECT_EQ(st.done->err, ENOENT);
    EXPECT_NE(st.done->error.find("missing"), std::string::npos);
    auto rd = co_await file_op(h.channel(), file_req(wire::FileOp::kRead, dir_->path()));
    EXPECT_EQ(rd.done->err, EISDIR);
    auto dev = co_await file_op(h.channel(), file_req(wire::FileOp::kRead, "/dev/zero"));
    EXPECT_EQ(dev.done->err, EINVAL) << "a device must not be streamed forever";
    auto w = co_await write_file(h.channel(), path("no/such/dir/file"), "x");
    EXPECT_EQ(w.done->err, ENOENT);
    auto mk = co_await file_op(h.channel(), file_req(wire::FileOp::kMkdir, path("x/y")));
    EXPECT_EQ(mk.done->err, ENOENT);
  });
}

}  // namespace
}  // namespace hull::agent_test
