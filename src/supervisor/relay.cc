// Relay between one client stream and one agent stream.
//
// Memory bound: a chunk received on one side is handed to send_data() on the
// other side, and only once that has accepted it do we consume() it on the
// receiving side. So the sender can never have more than one window in our
// hands per direction, however fast it produces (`yes | head -c 1G`).
//
// Trust: everything from the agent is checked against what this kind of
// stream may carry; anything else is an agent violation and ends the sandbox.
// A client that sends something illegal only loses that stream.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <functional>

#include "base/log.h"
#include "supervisor/supervisor_core.h"

namespace hull::supervisor {

struct RelayPair {
  std::shared_ptr<wire::Stream> client;
  std::shared_ptr<wire::Stream> agent;
  StreamKind kind = StreamKind::kExec;
  std::function<bool()> client_connected;
  bool done = false;  // finished or aborted; both loops stop at the next step
  bool started = false;      // ExecStarted / FileInfo seen
};

void abort_relay(RelayPair& r, const std::string& why) {
  if (r.done) return;
  r.done = true;
  r.client->reset(why);
  r.agent->reset(why);
}

namespace {

using wire::Incoming;
using wire::StreamFd;

// Is this agent message legal here? Sets *final for the stream's last message.
bool agent_message_allowed(RelayPair& r, const wire::Message& m, bool* final, std::string* why) {
  *final = false;
  switch (r.kind) {
    case StreamKind::kExec:
      if (std::holds_alternative<wire::ExecStarted>(m)) {
        if (r.started) {
          *why = "second exec_started";
          return false;
        }
        r.started = true;
        return true;
      }
      if (std::holds_alternative<wire::ExecExit>(m)) {
        *final = true;
        return true;
      }
      break;
    case StreamKind::kFile:
      if (std::holds_alternative<wire::FileInfo>(m)) {
        if (r.started) {
          *why = "second file_info";
          return false;
        }
        r.started = true;
        return true;
      }
      if (std::holds_alternative<wire::DirEntries>(m)) return true;
      if (std::holds_alternative<wire::FileDone>(m)) {
        *final = true;
        return true;
      }
      break;
  }
  *why = std::string(wire::message_name(m)) + " is not valid on " +
         (r.kind == StreamKind::kExec ? "an exec" : "a file") + " stream";
  return false;
}

bool agent_fd_allowed(StreamKind kind, StreamFd fd) {
  switch (fd) {
    case StreamFd::kStdout: return true;
    case StreamFd::kStderr: return kind == StreamKind::kExec;
    case StreamFd::kStdin: return false;
  }
  return false;
}

asio::awaitable<void> client_to_agent(std::shared_ptr<RelayPair> r) {
  for (;;) {
    Incoming in = co_await r->client->receive();
    if (r->done) co_return;
    switch (in.kind) {
      case Incoming::Kind::kMessage: {
        bool ok = r->kind == StreamKind::kExec && (std::holds_alternative<wire::Resize>(in.message) ||
                                                   std::holds_alternative<wire::Signal>(in.message));
        if (!ok) {
          abort_relay(*r, std::string("client sent ") + wire::message_name(in.message) +
                              ", which is not valid on this stream");
          co_return;
        }
        if (!co_await r->agent->send_message(in.message)) {
          abort_relay(*r, "agent stream gone");
          co_return;
        }
        break;
      }
      case Incoming::Kind::kData: {
        if (in.fd != StreamFd::kStdin) {
          abort_relay(*r, "client sent data for stdout/stderr");
          co_return;
        }
        size_t n = in.data.size();
        if (!co_await r->agent->send_data(StreamFd::kStdin, in.data)) {
          abort_relay(*r, "agent stream gone");
          co_return;
        }
        if (r->done) co_return;
        r->client->consume(n);  // only now: the agent holds these bytes
        break;
      }
      case Incoming::Kind::kEof:
        if (in.fd != StreamFd::kStdin) {
          abort_relay(*r, "client sent eof for stdout/stderr");
          co_return;
        }
        (void)co_await r->agent->send_eof(StreamFd::kStdin);
        break;
      case Incoming::Kind::kReset:
        // The client aborted (e.g. `hull exec` interrupted): the agent kills
        // the process when its stream is reset.
        if (!r->done) {
          r->done = true;
          r->agent->reset("client reset: " + in.reason);
        }
        co_return;
      case Incoming::Kind::kClosed:
        if (r->client_connected()) {
          // The client finished its half (kFin): nothing more to forward,
          // but the command runs on and its output still flows back.
          r->agent->finish();
        } else {
          abort_relay(*r, "client disconnected");
        }
        co_return;
    }
  }
}

asio::awaitable<RelayResult> agent_to_client(Supervisor& sup, std::shared_ptr<RelayPair> r) {
  for (;;) {
    Incoming in = co_await r->agent->receive();
    if (r->done) co_return RelayResult{std::nullopt, "relay aborted"};
    switch (in.kind) {
      case Incoming::Kind::kMessage: {
        bool final = false;
        std::string why;
        if (!agent_message_allowed(*r, in.message, &final, &why)) {
          sup.agent_violation("stream " + std::to_string(r->agent->id()) + ": " + why);
          abort_relay(*r, "agent misbehaved: " + why);
          co_return RelayResult{std::nullopt, "agent misbehaved: " + why};
        }
        if (!co_await r->client->send_message(in.message)) {
          abort_relay(*r, "client gone");
          co_return RelayResult{std::nullopt, "client disconnected"};
        }
        if (final) {
          r->done = true;
          r->client->finish();
          r->agent->finish();
          RelayResult res;
          if (auto* e = std::get_if<wire::ExecExit>(&in.message)) res.exit = *e;
          co_return res;
        }
        break;
      }
      case Incoming::Kind::kData: {
        if (!agent_fd_allowed(r->kind, in.fd)) {
          sup.agent_violation("stream " + std::to_string(r->agent->id()) + ": data for stdin");
          abort_relay(*r, "agent misbehaved");
          co_return RelayResult{std::nullopt, "agent misbehaved"};
        }
        size_t n = in.data.size();
        if (!co_await r->client->send_data(in.fd, in.data)) {
          abort_relay(*r, "client gone");
          co_return RelayResult{std::nullopt, "client disconnected"};
        }
        if (r->done) co_return RelayResult{std::nullopt, "relay aborted"};
        r->agent->consume(n);  // only now: the client side holds these bytes
        break;
      }
      case Incoming::Kind::kEof:
        if (!agent_fd_allowed(r->kind, in.fd)) {
          sup.agent_violation("stream " + std::to_string(r->agent->id()) + ": eof for stdin");
          abort_relay(*r, "agent misbehaved");
          co_return RelayResult{std::nullopt, "agent misbehaved"};
        }
        if (!co_await r->client->send_eof(in.fd)) {
          abort_relay(*r, "client gone");
          co_return RelayResult{std::nullopt, "client disconnected"};
        }
        break;
      case Incoming::Kind::kReset:
        r->done = true;
        r->client->reset(in.reason);
        co_return RelayResult{std::nullopt, "agent reset the stream: " + in.reason};
      case Incoming::Kind::kClosed: {
        std::string why = in.reason.empty() ? "sandbox gone" : in.reason;
        abort_relay(*r, why);
        co_return RelayResult{std::nullopt, why};
      }
    }
  }
}

}  // namespace

asio::awaitable<RelayResult> relay_stream(Supervisor& sup, std::shared_ptr<wire::Stream> client,
                                          std::shared_ptr<wire::Stream> agent, StreamKind kind,
                                          std::function<bool()> client_connected) {
  auto r = std::make_shared<RelayPair>();
  r->client = std::move(client);
  r->agent = std::move(agent);
  r->kind = kind;
  r->client_connected = std::move(client_connected);
  sup.add_relay(r);
  // The client→agent half runs on its own; it ends at the client's next
  // frame or disconnect once `done` is set.
  asio::co_spawn(sup.executor(), client_to_agent(r), asio::detached);
  RelayResult res = co_await agent_to_client(sup, r);
  sup.remove_relay(r);
  co_return res;
}

}  // namespace hull::supervisor
