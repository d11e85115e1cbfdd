#include "cli/client_session.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>

#include "base/log.h"
#include "cli/commands.h"
#include "cli/sandbox_ref.h"

namespace hull::cli {

namespace asio = boost::asio;

int run_session(const std::string& socket_path, const std::string& role, const SessionBody& body,
                bool report_errors) {
  auto fd = connect_control(socket_path);
  if (!fd) return report_errors ? fail(fd.error()) : kExitHullError;
  asio::io_context io;
  wire::Channel ch(io.get_executor(), std::move(*fd), wire::Channel::Side::kInitiator);
  int code = kExitHullError;

  auto session = [&]() -> asio::awaitable<void> {
    wire::Hello mine{wire::kProtocolVersion, role, std::string("hull ") + HULL_VERSION};
    auto hello = co_await ch.handshake(mine);
    if (!hello) {
      if (report_errors)
        fail("handshake with the sandbox supervisor failed: " + hello.error().message(),
           "is the hull binary the same version as the running sandbox?");
      ch.close("handshake failed");
      co_return;
    }
    asio::co_spawn(io, ch.run(), [](std::exception_ptr e, Status st) {
      if (e) log::debug("channel read loop threw");
      else if (!st) log::debug("channel ended: {}", st.error().message());
    });
    code = co_await body(ch);
    ch.close("client done");
  };
  asio::co_spawn(io, session(), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      code = fail(std::string("internal error talking to the sandbox: ") + ex.what());
    }
  });
  io.run();
  return code;
}

}  // namespace hull::cli
