// Channel over a real socketpair: two Channels in one io_context, or one
// Channel against a raw fd peer that writes hand-made (often hostile) frames.
// No sleeps: progress is checked through state; a watchdog only turns a hang
// into a failure.
#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include <functional>
#include <string>

#include "base/sys.h"
#include "wire/channel.h"

namespace hull::wire {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

#define CO_ASSERT(cond)                                   \
  do {                                                    \
    if (!(cond)) {                                        \
      ADD_FAILURE() << "assertion failed: " #cond;        \
      co_return;                                          \
    }                                                     \
  } while (0)

std::vector<std::byte> text(const std::string& s) {
  auto* p = reinterpret_cast<const std::byte*>(s.data());
  return {p, p + s.size()};
}

ExecRequest exec_of(std::string arg) {
  ExecRequest r;
  r.argv = {"echo", std::move(arg)};
  return r;
}

// GCC 12 miscompiles a brace-initialized aggregate temporary inside a
// co_await expression (double destruction); build messages in a function.
template <class T, class... A>
Message msg(A&&... a) {
  return T{std::forward<A>(a)...};
}

void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

class WireChannel : public ::testing::Test {
 public:  // the violation table builds one fixture per case
  asio::io_context io;
  std::unique_ptr<Channel> host, agent;
  std::optional<Status> host_run, agent_run;
  bool host_ready = false, agent_ready = false;
  UniqueFd raw_fd;  // for raw-peer tests

  void SetUp() override {
    auto p = sys::socketpair();
    ASSERT_TRUE(p.ok());
    fds_ = std::move(*p);
  }

  void make_host(ChannelLimits limits = {}) {
    host = std::make_unique<Channel>(io.get_executor(), std::move(fds_.first),
                                     Channel::Side::kInitiator, limits);
    asio::co_spawn(io, serve(*host, "supervisor", host_ready, host_run), rethrow);
  }
  void make_agent(ChannelLimits limits = {}) {
    agent = std::make_unique<Channel>(io.get_executor(), std::move(fds_.second),
                                      Channel::Side::kResponder, limits);
    asio::co_spawn(io, serve(*agent, "agent", agent_ready, agent_run), rethrow);
  }

  awaitable<void> serve(Channel& ch, std::string role, bool& ready, std::optional<Status>& out) {
    auto h = co_await ch.handshake(std::get<Hello>(msg<Hello>(kProtocolVersion, role, "test")));
    if (!h.ok()) {
      out = h.error();
      co_return;
    }
    ready = true;
    out = co_await ch.run();
  }

  awaitable<void> both_ready() {
    while (!(host_ready && agent_ready)) co_await asio::post(io, use_awaitable);
  }

  // Runs `body` to completion, then closes both channels and drains the loop.
  void run(std::function<awaitable<void>()> body) {
    asio::steady_timer watchdog(io, std::chrono::seconds(20));
    watchdog.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      ADD_FAILURE() << "watchdog: test hung";
      io.stop();
    });
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          co_await body();
          if (host) host->close("test done");
          if (agent) agent->close("test done");
          watchdog.cancel();
        },
        rethrow);
    io.run();
  }

  // The raw peer: the agent end as a plain asio socket.
  asio::generic::stream_protocol::socket raw() {
    return asio::generic::stream_protocol::socket(
        io, asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), fds_.second.release());
  }

  static std::vector<std::byte> frame(FrameType t, uint8_t flags, uint32_t stream,
                                      std::span<const std::byte> payload) {
    std::vector<std::byte> out;
    append_frame(out, t, flags, stream, payload);
    return out;
  }
  static std::vector<std::byte> hello_frame(uint32_t version = kProtocolVersion) {
    return frame(FrameType::kHello, 0, 0, encode_message_bytes(Hello{version, "agent", "raw"}));
  }

  // Hostile-peer scenario: write `bytes` after a valid hello, then wait for
  // the host's run() to end; returns its status.
  Status host_vs_raw(std::vector<std::byte> bytes) {
    make_host();
    auto sock = std::make_shared<asio::generic::stream_protocol::socket>(raw());
    run([&, sock]() -> awaitable<void> {
      auto all = hello_frame();
      all.insert(all.end(), bytes.begin(), bytes.end());
      boost::system::error_code ec;
      co_await asio::async_write(*sock, asio::buffer(all), asio::redirect_error(use_awaitable, ec));
      // Keep reading (so the host's writes never block) until it hangs up.
      std::vector<char> sink(4096);
      while (!ec) co_await sock->async_read_some(asio::buffer(sink), asio::redirect_error(use_awaitable, ec));
    });
    return host_run.value_or(make_error("host never ran"));
  }

 private:
  sys::FdPair fds_;
};

TEST_F(WireChannel, OpenAcceptAndDataFlowBothWays) {
  make_host();
  make_agent();
  std::string host_got_out;
  bool host_saw_exit = false, host_saw_fin = false, agent_saw_eof = false;
  std::string agent_got_in;
  run([&]() -> awaitable<void> {
    co_await both_ready();
    asio::co_spawn(io, [&]() -> awaitable<void> {  // the agent side
      auto a = co_await agent->accept();
      CO_ASSERT(a.ok());
      CO_ASSERT(std::get<ExecRequest>(a->request).argv[1] == "hi");
      auto s = a->stream;
      CO_ASSERT((co_await s->send_message(msg<ExecStarted>(7))).ok());
      CO_ASSERT((co_await s->send_data(StreamFd::kStdout, text("hello "))).ok());
      CO_ASSERT((co_await s->send_data(StreamFd::kStdout, text("world"))).ok());
      while (true) {
        auto in = co_await s->receive();
        if (in.kind == Incoming::Kind::kEof) break;
        CO_ASSERT(in.kind == Incoming::Kind::kData);
        agent_got_in.append(reinterpret_cast<const char*>(in.data.data()), in.data.size());
        s->consume(in.data.size());
      }
      agent_saw_eof = true;
      CO_ASSERT((co_await s->send_message(msg<ExecExit>(3, 0, false, SpawnError::kNone, ""))).ok());
      s->finish();
    }, rethrow);

    auto s = co_await host->open(exec_of("hi"));
    CO_ASSERT(s.ok());
    EXPECT_EQ((*s)->id() % 2, 1u);  // initiator ids are odd
    CO_ASSERT((co_await (*s)->send_data(StreamFd::kStdin, text("input"))).ok());
    CO_ASSERT((co_await (*s)->send_eof(StreamFd::kStdin)).ok());
    auto first = co_await (*s)->receive();
    CO_ASSERT(first.kind == Incoming::Kind::kMessage);
    EXPECT_EQ(std::get<ExecStarted>(first.message).pid, 7);
    while (true) {
      auto in = co_await (*s)->receive();
      if (in.kind == Incoming::Kind::kData) {
        host_got_out.append(reinterpret_cast<const char*>(in.data.data()), in.data.size());
        (*s)->consume(in.data.size());
      } else if (in.kind == Incoming::Kind::kMessage) {
        host_saw_exit = std::get<ExecExit>(in.message).exit_code == 3;
      } else {
        host_saw_fin = in.kind == Incoming::Kind::kClosed && in.reason == "stream finished by peer";
        break;
      }
    }
    (*s)->finish();
  });
  EXPECT_EQ(host_got_out, "hello world");
  EXPECT_EQ(agent_got_in, "input");
  EXPECT_TRUE(host_saw_exit);
  EXPECT_TRUE(host_saw_fin);
  EXPECT_TRUE(agent_saw_eof);
  ASSERT_TRUE(host_run.has_value());
  EXPECT_TRUE(host_run->ok()) << host_run->error().message();
}

TEST_F(WireChannel, ControlMessagesAndAgentOpenedStreams) {
  make_host();
  make_agent();
  run([&]() -> awaitable<void> {
    co_await both_ready();
    CO_ASSERT((co_await agent->send_control(msg<Ready>("box", "6.1"))).ok());
    auto m = co_await host->receive_control();
    CO_ASSERT(m.ok());
    EXPECT_EQ(std::get<Ready>(*m).hostname, "box");
    auto s = co_await agent->open(msg<Event>("probe", ""));
    CO_ASSERT(s.ok());
    EXPECT_EQ((*s)->id() % 2, 0u);  // responder ids are even
    auto a = co_await host->accept();
    CO_ASSERT(a.ok());
    EXPECT_EQ(a->stream->id(), (*s)->id());
    EXPECT_FALSE((co_await host->send_control(msg<Hello>(1u, "client", "x"))).ok());
  });
}

TEST_F(WireChannel, CreditExhaustionBlocksTheSenderUntilConsume) {
  make_host();
  make_agent();
  const size_t total = kInitialWindow + 1000;
  bool sent_all = false;
  size_t received = 0;
  run([&]() -> awaitable<void> {
    co_await both_ready();
    auto s = co_await host->open(exec_of("x"));
    CO_ASSERT(s.ok());
    std::vector<std::byte> big(total, std::byte{1});
    asio::co_spawn(io, [&, st = *s]() -> awaitable<void> {
      auto r = co_await st->send_data(StreamFd::kStdin, big);
      EXPECT_TRUE(r.ok());
      sent_all = true;
    }, rethrow);
    auto a = co_await agent->accept();
    CO_ASSERT(a.ok());
    while (received < kInitialWindow) {
      auto in = co_await a->stream->receive();
      CO_ASSERT(in.kind == Incoming::Kind::kData);
      received += in.data.size();
    }
    EXPECT_EQ(received, kInitialWindow);
    // Let every ready handler run: the sender has no credit, so it must
    // still be suspended however long we let the loop spin.
    for (int i = 0; i < 200; ++i) co_await asio::post(io, use_awaitable);
    EXPECT_FALSE(sent_all);
    a->stream->consume(received);
    while (received < total) {
      auto in = co_await a->stream->receive();
      CO_ASSERT(in.kind == Incoming::Kind::kData);
      received += in.data.size();
    }
    while (!sent_all) co_await asio::post(io, use_awaitable);
  });
  EXPECT_EQ(received, total);
  EXPECT_TRUE(sent_all);
}

TEST_F(WireChannel, CloseWakesEveryPendingOperation) {
  make_host();
  make_agent();
  int woke = 0;
  run([&]() -> awaitable<void> {
    co_await both_ready();
    auto s = co_await host->open(exec_of("x"));
    CO_ASSERT(s.ok());
    auto st = *s;
    asio::co_spawn(io, [&, st]() -> awaitable<void> {
      auto in = co_await st->receive();
      EXPECT_EQ(in.kind, Incoming::Kind::kClosed);
      ++woke;
    }, rethrow);
    asio::co_spawn(io, [&]() -> awaitable<void> {
      EXPECT_FALSE((co_await host->receive_control()).ok());
      ++woke;
    }, rethrow);
    asio::co_spawn(io, [&]() -> awaitable<void> {
      EXPECT_FALSE((co_await host->accept()).ok());
      ++woke;
    }, rethrow);
    std::vector<std::byte> big(kInitialWindow + 1, std::byte{2});
    asio::co_spawn(io, [&, st]() -> awaitable<void> {
      EXPECT_FALSE((co_await st->send_data(StreamFd::kStdin, big)).ok());  // blocks on credit
      ++woke;
    }, rethrow);
    for (int i = 0; i < 50; ++i) co_await asio::post(io, use_awaitable);
    EXPECT_EQ(woke, 0);
    host->close("operator said stop");
    while (woke < 4) co_await asio::post(io, use_awaitable);
    EXPECT_FALSE(host->is_open());
    EXPECT_EQ(host->failure(), "operator said stop");
  });
  EXPECT_EQ(woke, 4);
  ASSERT_TRUE(agent_run.has_value());
  EXPECT_TRUE(agent_run->ok());  // the peer sees a clean EOF
}

TEST_F(WireChannel, ThousandsOfFramesArriveInOrder) {
  make_host();
  make_agent();
  const int n = 5000;
  int messages = 0;
  size_t bytes = 0;
  run([&]() -> awaitable<void> {
    co_await both_ready();
    auto s = co_await host->open(exec_of("x"));
    CO_ASSERT(s.ok());
    asio::co_spawn(io, [&, st = *s]() -> awaitable<void> {
      for (int i = 0; i < n; ++i) {
        CO_ASSERT((co_await st->send_message(msg<Resize>(static_cast<uint16_t>(i), uint16_t{1}))).ok());
        CO_ASSERT((co_await st->send_data(StreamFd::kStdin, std::vector<std::byte>(100))).ok());
      }
      st->finish();
    }, rethrow);
    auto a = co_await agent->accept();
    CO_ASSERT(a.ok());
    while (true) {
      auto in = co_await a->stream->receive();
      if (in.kind == Incoming::Kind::kMessage) {
        EXPECT_EQ(std::get<Resize>(in.message).rows, messages);
        ++messages;
      } else if (in.kind == Incoming::Kind::kData) {
        bytes += in.data.size();
        a->stream->consume(in.data.size());
      } else {
        break;
      }
    }
  });
  EXPECT_EQ(messages, n);
  EXPECT_EQ(bytes, size_t(n) * 100);
}

TEST_F(WireChannel, ManyStreamsRunConcurrently) {
  make_host();
  make_agent();
  const int streams = 100;
  const size_t per_stream = 100 * 1024;
  int answered = 0;
  run([&]() -> awaitable<void> {
    co_await both_ready();
    asio::co_spawn(io, [&]() -> awaitable<void> {  // agent: echo the byte count
      while (true) {
        auto a = co_await agent->accept();
        if (!a.ok()) co_return;
        asio::co_spawn(io, [s = a->stream]() -> awaitable<void> {
          uint64_t got = 0;
          for (auto in = co_await s->receive(); in.kind == Incoming::Kind::kData;
               in = co_await s->receive()) {
            got += in.data.size();
            s->consume(in.data.size());
          }
          EXPECT_TRUE((co_await s->send_message(msg<HealthReply>(0u, got))).ok());
          s->finish();
        }, rethrow);
      }
    }, rethrow);
    for (int i = 0; i < streams; ++i) {
      asio::co_spawn(io, [&]() -> awaitable<void> {
        auto s = co_await host->open(exec_of("x"));
        CO_ASSERT(s.ok());
        CO_ASSERT((co_await (*s)->send_data(StreamFd::kStdin, std::vector<std::byte>(per_stream))).ok());
        CO_ASSERT((co_await (*s)->send_eof(StreamFd::kStdin)).ok());
        auto in = co_await (*s)->receive();
        CO_ASSERT(in.kind == Incoming::Kind::kMessage);
        EXPECT_EQ(std::get<HealthReply>(in.message).uptime_ms, per_stream);
        (*s)->finish();
        ++answered;
      }, rethrow);
    }
    while (answered < streams) co_await asio::post(io, use_awaitable);
  });
  EXPECT_EQ(answered, streams);
}

TEST_F(WireChannel, StreamSlotsAreBoundedAndFreedByFinOnBothSides) {
  ChannelLimits limits;
  limits.max_streams = 2;
  make_host(limits);
  make_agent(limits);
  run([&]() -> awaitable<void> {
    co_await both_ready();
    auto a = co_await host->open(exec_of("1"));
    auto b = co_await host->open(exec_of("2"));
    CO_ASSERT(a.ok() && b.ok());
    EXPECT_FALSE((co_await host->open(exec_of("3"))).ok());
    auto acc = co_await agent->accept();
    CO_ASSERT(acc.ok());
    (*a)->finish();
    acc->stream->finish();
    auto in = co_await (*a)->receive();  // peer's fin arrives: both finished
    EXPECT_EQ(in.kind, Incoming::Kind::kClosed);
    EXPECT_TRUE((co_await host->open(exec_of("4"))).ok());
  });
  EXPECT_TRUE(host_run->ok());
  EXPECT_TRUE(agent_run->ok()) << agent_run->error().message();
}

TEST_F(WireChannel, LateFramesForAResetStreamAreIgnored) {
  make_host();
  make_agent();
  run([&]() -> awaitable<void> {
    co_await both_ready();
    auto s = co_await host->open(exec_of("x"));
    CO_ASSERT(s.ok());
    auto a = co_await agent->accept();
    CO_ASSERT(a.ok());
    (*s)->reset("not interested");
    // The agent keeps sending before it learns about the reset.
    CO_ASSERT((co_await a->stream->send_data(StreamFd::kStdout, text("late"))).ok());
    auto in = co_await a->stream->receive();
    EXPECT_EQ(in.kind, Incoming::Kind::kReset);
    EXPECT_EQ(in.reason, "reset by peer: not interested");
    CO_ASSERT((co_await host->send_control(msg<Health>())).ok());
    CO_ASSERT((co_await agent->receive_control()).ok());  // channel still fine
  });
  EXPECT_TRUE(host_run->ok());
  EXPECT_TRUE(agent_run->ok());
}

// ---- hostile raw peers ---------------------------------------------------

TEST_F(WireChannel, PeerSendingBeyondCreditFailsTheChannel) {
  auto bytes = frame(FrameType::kOpen, 0, 2, encode_message_bytes(exec_of("x")));
  std::vector<std::byte> chunk(kMaxPayload, std::byte{'A'});
  for (uint32_t sent = 0; sent < kInitialWindow; sent += kMaxPayload) {
    auto f = frame(FrameType::kData, 1, 2, chunk);
    bytes.insert(bytes.end(), f.begin(), f.end());
  }
  auto one = frame(FrameType::kData, 1, 2, std::vector<std::byte>(1));
  bytes.insert(bytes.end(), one.begin(), one.end());
  auto st = host_vs_raw(bytes);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("credit"), std::string::npos) << st.error().message();
}

TEST_F(WireChannel, GarbageFromThePeerFailsRunWithAnError) {
  auto st = host_vs_raw(text("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("invalid frame"), std::string::npos) << st.error().message();
}

TEST_F(WireChannel, AFourGiBLengthIsRejectedAfterTwelveBytes) {
  std::vector<std::byte> h(kHeaderSize, std::byte{0xff});
  h[4] = std::byte{4};  // kData
  h[5] = std::byte{1};
  h[6] = h[7] = std::byte{0};
  // No payload follows: the host must fail on the header alone (a hang here
  // trips the watchdog).
  auto st = host_vs_raw(h);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("exceeds"), std::string::npos) << st.error().message();
}

struct Hostile {
  const char* name;
  std::function<std::vector<std::byte>()> bytes;
  const char* error;
};

TEST_F(WireChannel, ProtocolViolationsFailTheChannel) {
  auto open = [](uint32_t id) {
    return WireChannel::frame(FrameType::kOpen, 0, id, encode_message_bytes(exec_of("x")));
  };
  auto cat = [](std::vector<std::byte> a, const std::vector<std::byte>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  const Hostile cases[] = {
      {"open with initiator parity", [&] { return open(1); }, "our parity"},
      {"reused stream id", [&] { return cat(open(2), open(2)); }, "reused"},
      {"data for a never-opened stream",
       [&] { return frame(FrameType::kData, 1, 4, text("x")); }, "never opened"},
      {"window for a never-opened stream",
       [&] { return frame(FrameType::kWindow, 0, 3, encode_window(1)); }, "never opened"},
      {"second hello", [&] { return hello_frame(); }, "hello after the handshake"},
      {"bad json in open",
       [&] { return frame(FrameType::kOpen, 0, 2, text("{\"type\":\"exec\"")); }, "not valid JSON"},
      {"hello inside a message",
       [&] { return frame(FrameType::kMessage, 0, 0, encode_message_bytes(Hello{1, "agent", ""})); },
       "hello outside"},
      {"data after eof",
       [&] {
         return cat(cat(open(2), frame(FrameType::kEof, 1, 2, {})), frame(FrameType::kData, 1, 2, text("x")));
       },
       "data after eof"},
      {"data after fin",
       [&] { return cat(cat(open(2), frame(FrameType::kFin, 0, 2, {})), frame(FrameType::kData, 1, 2, text("x"))); },
       "data after fin"},
      {"zero window",
       [&] { return cat(open(2), frame(FrameType::kWindow, 0, 2, encode_window(0))); }, "zero window"},
      {"credit overflow",
       [&] {
         return cat(open(2), frame(FrameType::kWindow, 0, 2, encode_window(0xffffffffu)));
       },
       "credit over"},
      {"control flood",
       [&] {
         std::vector<std::byte> all;
         for (int i = 0; i < 1100; ++i) all = cat(std::move(all), frame(FrameType::kMessage, 0, 0, encode_message_bytes(Health{})));
         return all;
       },
       "control messages"},
      {"too many streams",
       [&] {
         std::vector<std::byte> all;
         for (uint32_t id = 2; id <= 2 * 257; id += 2) all = cat(std::move(all), open(id));
         return all;
       },
       "more than 256 streams"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    // Fresh loop and socketpair per case.
    struct Case : WireChannel {
      void TestBody() override {}
    } t;
    t.SetUp();
    auto st = t.host_vs_raw(c.bytes());
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message().find(c.error), std::string::npos) << st.error().message();
  }
}

TEST_F(WireChannel, VersionMismatchIsRejectedWithAClearMessage) {
  make_host();
  auto sock = std::make_shared<asio::generic::stream_protocol::socket>(raw());
  run([&, sock]() -> awaitable<void> {
    auto h = hello_frame(2);
    co_await asio::async_write(*sock, asio::buffer(h), use_awaitable);
    while (host->is_open()) co_await asio::post(io, use_awaitable);
  });
  ASSERT_TRUE(host_run.has_value());
  ASSERT_FALSE(host_run->ok());
  EXPECT_NE(host_run->error().message().find("version mismatch: peer speaks v2, we speak v1"),
            std::string::npos)
      << host_run->error().message();
}

TEST_F(WireChannel, FirstFrameMustBeHello) {
  make_host();
  auto sock = std::make_shared<asio::generic::stream_protocol::socket>(raw());
  run([&, sock]() -> awaitable<void> {
    auto f = frame(FrameType::kMessage, 0, 0, encode_message_bytes(Health{}));
    co_await asio::async_write(*sock, asio::buffer(f), use_awaitable);
    while (host->is_open()) co_await asio::post(io, use_awaitable);
  });
  ASSERT_FALSE(host_run->ok());
  EXPECT_NE(host_run->error().message().find("first frame is not hello"), std::string::npos);
}

}  // namespace
}  // namespace hull::wire
