// Channel and Stream: the public handles. Both forward to the shared
// ChannelCore, which outlives them while any coroutine still needs it.
#include "wire/channel.h"

#include "wire/channel_core.h"

namespace hull::wire {

Stream::Stream(std::shared_ptr<ChannelCore> core, uint32_t id) : core_(std::move(core)), id_(id) {}
Stream::~Stream() {
  if (core_) core_->release(id_);
}

uint32_t Stream::id() const { return id_; }
asio::awaitable<Incoming> Stream::receive() { return core_->receive(id_); }
asio::awaitable<Status> Stream::send_data(StreamFd fd, std::span<const std::byte> bytes) {
  return core_->send_data(id_, fd, bytes);
}
asio::awaitable<Status> Stream::send_message(const Message& m) {
  return core_->send_message(id_, m);
}
asio::awaitable<Status> Stream::send_eof(StreamFd fd) { return core_->send_eof(id_, fd); }
void Stream::consume(size_t n) { core_->consume(id_, n); }
void Stream::reset(const std::string& reason) { core_->reset(id_, reason); }
void Stream::finish() { core_->finish(id_); }

Channel::Channel(asio::any_io_executor ex, UniqueFd fd, Side side, ChannelLimits limits)
    : core_(std::make_shared<ChannelCore>(std::move(ex), std::move(fd), side, limits)) {
  core_->start();
}

Channel::~Channel() { core_->close("channel destroyed"); }

asio::awaitable<Result<Hello>> Channel::handshake(const Hello& mine) {
  return core_->handshake(mine);
}
asio::awaitable<Status> Channel::run() { return core_->run(); }
asio::awaitable<Result<std::shared_ptr<Stream>>> Channel::open(const Message& request) {
  return core_->open(request);
}
asio::awaitable<Result<Channel::Accepted>> Channel::accept() { return core_->accept(); }
asio::awaitable<Status> Channel::send_control(const Message& m) { return core_->send_control(m); }
asio::awaitable<Result<Message>> Channel::receive_control() { return core_->receive_control(); }
void Channel::close(const std::string& why) { core_->close(why); }
bool Channel::is_open() const { return core_->is_open(); }
std::string Channel::failure() const { return core_->failure(); }

bool is_transport_error(const Error& e) {
  // The ops ChannelCore uses for I/O failures (channel_core.cc).
  return e.op == "read from channel" || e.op == "write to channel" || e.op == "channel transport";
}

}  // namespace hull::wire
