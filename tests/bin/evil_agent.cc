// A fake hull-agent that misbehaves on purpose (hostile tests). The backend
// runs it as the sandbox's PID 1 with a fixed argv ({"hull-agent",
// "--channel-fd", "3"}), so the misbehaviour is chosen by the test through
// the file /workspace/evil-mode:
//
//   garbage     valid Hello, then bytes that are not frames
//   huge-frame  valid Hello, then a header claiming a 4 GiB payload
//   starve      Hello + Ready, then never grants credit on any stream; once it
//               has received a full window of stdin it writes
//               /workspace/evil-starved (so the test knows without sleeping)
//   overrun     Hello + Ready; answers an exec with 2 MiB of stdout, ignoring
//               the 256 KiB of credit it was given
//   flood       Hello + Ready, then thousands of Event messages at once
//   wrong-reply Hello + Ready; answers an exec with file_done
//   exit        Hello + Ready, then exits (the sandbox dies under the host)
//   open-stream Hello + Ready, then opens streams of its own toward the host
//   cp-overrun  Hello + Ready; answers every file stat and read with a
//               FileInfo announcing a 10-byte regular file, and a read with
//               192 KiB of content (within its credit) before Eof and an
//               ok FileDone: a download must stop at the announced size
//
// In a microVM it is the guest's /init instead (no fd 3): it mounts devtmpfs,
// the workspace over 9p (tag "workspace") and takes the virtio-serial port as
// its channel, so the same modes work against both backends.
//
// Speaks raw frames with blocking I/O on purpose: it must be able to do what
// wire::Channel would never let a well-behaved peer do.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "wire/frame.h"
#include "wire/messages.h"

namespace {

using namespace hull::wire;

constexpr int kFd = 3;

void write_raw(const std::vector<std::byte>& b) {
  size_t off = 0;
  while (off < b.size()) {
    ssize_t n = ::write(kFd, b.data() + off, b.size() - off);
    if (n <= 0) _exit(0);  // host closed the channel: nothing left to do
    off += static_cast<size_t>(n);
  }
}

void send_frame(FrameType type, uint8_t flags, uint32_t stream, std::span<const std::byte> p) {
  std::vector<std::byte> out;
  append_frame(out, type, flags, stream, p);
  write_raw(out);
}

void send_message(FrameType type, uint32_t stream, const Message& m) {
  send_frame(type, 0, stream, encode_message_bytes(m));
}

std::string read_mode() {
  int fd = ::open("/workspace/evil-mode", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "garbage";
  char buf[64] = {};
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  std::string m(buf, n > 0 ? static_cast<size_t>(n) : 0);
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

void touch(const char* path) {
  int fd = ::open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) ::close(fd);
}

[[noreturn]] void hang() {
  for (;;) ::pause();
}

// Reads frames until the host closes; calls on_frame for each.
template <class F>
[[noreturn]] void read_frames(F on_frame) {
  FrameDecoder dec;
  std::vector<std::byte> buf(64 * 1024);
  for (;;) {
    ssize_t n = ::read(kFd, buf.data(), buf.size());
    if (n <= 0) hang();  // wait for the host to kill us
    dec.feed(std::span(buf.data(), static_cast<size_t>(n)));
    while (auto f = dec.next()) {
      if (!*f) hang();
      on_frame(**f);
    }
  }
}

}  // namespace

// As a VM's /init: the devices and the workspace the real agent would mount,
// and the channel port on fd 3. Any failure leaves fd 3 closed, which the
// host sees as an agent that never said Hello.
void become_vm_init() {
  ::mkdir("/dev", 0755);
  ::mount("devtmpfs", "/dev", "devtmpfs", 0, nullptr);
  ::mkdir("/workspace", 0755);
  ::mount("workspace", "/workspace", "9p", 0, "trans=virtio,version=9p2000.L");
  for (int i = 0; i < 8; ++i) {
    std::string port = "/dev/vport" + std::to_string(i) + "p1";
    int fd = ::open(port.c_str(), O_RDWR | O_NOCTTY);
    if (fd < 0) continue;
    if (fd != kFd) {
      ::dup2(fd, kFd);
      ::close(fd);
    }
    return;
  }
}

int main() {
  if (::getpid() == 1 && ::fcntl(kFd, F_GETFD) < 0) become_vm_init();
  const std::string mode = read_mode();
  send_message(FrameType::kHello, 0, Hello{kProtocolVersion, "agent", "evil-agent " + mode});

  if (mode == "garbage") {
    write_raw(std::vector<std::byte>(4096, std::byte{0xAB}));
    hang();
  }
  if (mode == "huge-frame") {
    // length 0xFFFFFFFF, type kMessage, stream 0: a decoder that trusted the
    // length would try to buffer 4 GiB.
    std::vector<std::byte> h = {std::byte{0xFF}, std::byte{0xFF}, std::byte{0xFF}, std::byte{0xFF},
                                std::byte{3},    std::byte{0},    std::byte{0},    std::byte{0},
                                std::byte{0},    std::byte{0},    std::byte{0},    std::byte{0}};
    write_raw(h);
    hang();
  }

  send_message(FrameType::kMessage, 0, Ready{"evil", "0.0-evil"});

  if (mode == "exit") _exit(0);
  if (mode == "open-stream") {
    // The responder's ids are even. Each open carries a message, which a
    // host that accepted peer streams would buffer for an accept() that
    // never comes.
    for (uint32_t id = 2; id <= 2 * 300; id += 2) send_message(FrameType::kOpen, id, Event{"open", ""});
    hang();
  }
  if (mode == "flood") {
    std::vector<std::byte> burst;
    auto ev = encode_message_bytes(Event{"flood", ""});
    for (int i = 0; i < 20000; ++i) append_frame(burst, FrameType::kMessage, 0, 0, ev);
    write_raw(burst);
    hang();
  }
  if (mode == "starve") {
    size_t received = 0;
    bool marked = false;
    read_frames([&](const Frame& f) {
      if (f.type != FrameType::kData) return;  // Shutdown etc. are ignored too
      received += f.payload.size();
      if (!marked && received >= kInitialWindow) {
        marked = true;
        touch("/workspace/evil-starved");
      }
    });
  }
  if (mode == "cp-overrun") {
    read_frames([&](const Frame& f) {
      if (f.type != FrameType::kOpen) return;
      auto req = decode_message(f.payload);
      const auto* file = req ? std::get_if<FileRequest>(&*req) : nullptr;
      if (file == nullptr) return;
      send_message(FrameType::kMessage, f.stream, FileInfo{FileType::kRegular, 10, 0644, 0});
      if (file->op == FileOp::kRead) {
        // 3 frames + 2 messages' credit stay inside the initial window.
        std::vector<std::byte> chunk(kMaxPayload, std::byte{'z'});
        for (int i = 0; i < 3; ++i)
          send_frame(FrameType::kData, static_cast<uint8_t>(StreamFd::kStdout), f.stream, chunk);
        send_frame(FrameType::kEof, static_cast<uint8_t>(StreamFd::kStdout), f.stream, {});
      }
      send_message(FrameType::kMessage, f.stream, FileDone{0, ""});
    });
  }
  // The egress streams the host parks (EgressAccept): bytes before the
  // EgressConnected that must come first, or data on a fd egress never uses.
  if (mode == "egress-no-hello" || mode == "egress-wrong-fd") {
    read_frames([&](const Frame& f) {
      if (f.type != FrameType::kOpen) return;
      auto req = decode_message(f.payload);
      if (!req || !std::holds_alternative<EgressAccept>(*req)) return;
      const StreamFd fd = mode == "egress-wrong-fd" ? StreamFd::kStderr : StreamFd::kStdout;
      if (mode == "egress-wrong-fd") send_message(FrameType::kMessage, f.stream, EgressConnected{"evil", "proxy"});
      std::vector<std::byte> bytes(64, std::byte{'e'});
      send_frame(FrameType::kData, static_cast<uint8_t>(fd), f.stream, bytes);
    });
  }
  if (mode == "overrun" || mode == "wrong-reply") {
    read_frames([&](const Frame& f) {
      if (f.type != FrameType::kOpen) return;
      if (mode == "wrong-reply") {
        send_message(FrameType::kMessage, f.stream, FileDone{0, ""});
        return;
      }
      send_message(FrameType::kMessage, f.stream, ExecStarted{2});
      std::vector<std::byte> chunk(kMaxPayload, std::byte{'y'});
      for (int i = 0; i < 32; ++i) {
        send_frame(FrameType::kData, static_cast<uint8_t>(StreamFd::kStdout), f.stream, chunk);
      }
    });
  }
  std::fprintf(stderr, "evil-agent: unknown mode %s\n", mode.c_str());
  hang();
}
