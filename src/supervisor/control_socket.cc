// One client of the control socket (the CLI: `hull run`, `hull exec`, `hull
// cp`, `hull stop`). A client is trusted more than the agent (it is the same
// user) but is still parsed strictly: a client that breaks the protocol is
// dropped, and only that client.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "base/log.h"
#include "supervisor/supervisor_core.h"

namespace hull::supervisor {

namespace {
using namespace std::chrono_literals;
// A connection that never says Hello must not hold a slot forever.
constexpr auto kHelloTimeout = 10s;
}  // namespace

class ClientConn : public std::enable_shared_from_this<ClientConn> {
 public:
  ClientConn(Supervisor& sup, UniqueFd fd, uint64_t id)
      : sup(sup), ch(sup.executor(), std::move(fd), wire::Channel::Side::kResponder), id(id) {}

  Supervisor& sup;
  wire::Channel ch;
  uint64_t id;
  std::string role;
  bool closed = false;
};

void close_client(ClientConn& c, const std::string& why) {
  if (c.closed) return;
  c.closed = true;
  c.ch.close(why);
}

void deliver_health(const std::weak_ptr<ClientConn>& to, const wire::HealthReply& reply) {
  auto c = to.lock();
  if (!c || c->closed) return;
  asio::co_spawn(c->sup.executor(), c->ch.send_control(reply),
                 [c](std::exception_ptr, Status) {});
}

namespace {

asio::awaitable<void> client_control_loop(std::shared_ptr<ClientConn> c) {
  for (;;) {
    auto msg = co_await c->ch.receive_control();
    if (!msg) co_return;
    if (std::holds_alternative<wire::Shutdown>(*msg)) {
      log::info("client {} asked for shutdown", c->id);
      c->sup.stop(Outcome{false, "", std::nullopt});
    } else if (std::holds_alternative<wire::Health>(*msg)) {
      if (!c->sup.stopping()) c->sup.forward_health(c);
    } else {
      log::warn("client {} sent {} on the control stream; dropping it", c->id,
                wire::message_name(*msg));
      close_client(*c, std::string("unexpected ") + wire::message_name(*msg));
      co_return;
    }
  }
}

asio::awaitable<void> handle_stream(std::shared_ptr<ClientConn> c, wire::Channel::Accepted acc) {
  Supervisor& sup = c->sup;
  StreamKind kind = StreamKind::kExec;
  if (std::holds_alternative<wire::FileRequest>(acc.request)) {
    kind = StreamKind::kFile;
  } else if (!std::holds_alternative<wire::ExecRequest>(acc.request)) {
    log::warn("client {} opened a stream with {}; dropping it", c->id,
              wire::message_name(acc.request));
    close_client(*c, std::string("a stream cannot be opened with ") +
                         wire::message_name(acc.request));
    co_return;
  }
  auto req = prepare_request(sup.spec(), acc.request);
  if (!req) {
    acc.stream->reset(req.error().message());
    co_return;
  }
  if (sup.stopping()) {
    acc.stream->reset("sandbox is stopping");
    co_return;
  }
  bool is_main = kind == StreamKind::kExec && c->role == "run" && !sup.spec().detach &&
                 sup.claim_main();
  auto agent_stream = co_await sup.agent().open(*req);
  if (!agent_stream) {
    std::string why = "open stream to agent: " + agent_stream.error().message();
    acc.stream->reset(why);
    if (is_main) sup.main_command_ended(std::nullopt, "main command did not start: " + why);
    co_return;
  }
  log::debug("client {} stream {} ↔ agent stream {} ({})", c->id, acc.stream->id(),
             (*agent_stream)->id(), wire::message_name(*req));
  RelayResult res = co_await relay_stream(sup, acc.stream, *agent_stream, kind,
                                          [c] { return !c->closed && c->ch.is_open(); });
  if (!is_main) co_return;
  if (res.exit) {
    sup.main_command_ended(wire::shell_exit_status(*res.exit), res.exit->error);
  } else {
    sup.main_command_ended(std::nullopt, "main command aborted: " + res.aborted);
  }
}

}  // namespace

asio::awaitable<void> serve_client(Supervisor& sup, UniqueFd fd, uint64_t id) {
  auto c = std::make_shared<ClientConn>(sup, std::move(fd), id);
  sup.add_client(c);

  asio::steady_timer deadline(sup.executor(), kHelloTimeout);
  deadline.async_wait([w = std::weak_ptr<ClientConn>(c)](boost::system::error_code ec) {
    if (ec) return;
    if (auto c = w.lock()) close_client(*c, "no Hello in time");
  });
  auto hello = co_await c->ch.handshake(
      wire::Hello{wire::kProtocolVersion, "supervisor", std::string("hull-supervisor ") + HULL_VERSION});
  deadline.cancel();
  if (!hello || (hello->role != "run" && hello->role != "client")) {
    log::warn("client {} rejected: {}", id,
              hello ? "unknown role \"" + hello->role + "\"" : hello.error().message());
    close_client(*c, "handshake failed");
    sup.remove_client(c);
    co_return;
  }
  c->role = hello->role;
  log::info("client {} connected (role {}, {})", id, c->role, hello->software);

  asio::co_spawn(sup.executor(), c->ch.run(), [c](std::exception_ptr, Status st) {
    if (st) {
      log::info("client {} disconnected", c->id);
    } else {
      log::warn("client {} dropped: {}", c->id, st.error().message());
    }
    close_client(*c, "disconnected");
    c->sup.remove_client(c);
  });
  asio::co_spawn(sup.executor(), client_control_loop(c), asio::detached);
  for (;;) {
    auto acc = co_await c->ch.accept();
    if (!acc) break;
    asio::co_spawn(sup.executor(), handle_stream(c, std::move(acc).value()), asio::detached);
  }
}

}  // namespace hull::supervisor
