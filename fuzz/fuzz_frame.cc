// Fuzz FrameDecoder with arbitrary bytes fed in arbitrary chunk sizes.
// Properties: never crashes; every frame it yields satisfies the header rules
// and re-encodes to a header that parses identically; after an error it stays
// failed and buffers nothing.
#include <cstdlib>
#include <span>

#include "wire/frame.h"

using namespace hull::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // First byte picks the chunk size so splits across headers get exercised.
  const size_t chunk = 1 + data[0] % 64;
  std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  FrameDecoder dec;
  bool failed = false;
  for (size_t off = 0; off < in.size(); off += chunk) {
    dec.feed(in.subspan(off, std::min(chunk, in.size() - off)));
    while (auto f = dec.next()) {
      if (!*f) {
        failed = true;
        if (dec.buffered() != 0) abort();
        break;
      }
      const Frame& fr = **f;
      if (fr.payload.size() > kMaxPayload) abort();
      auto bytes = encode_frame(fr);
      uint32_t len = 0;
      auto again = parse_header(std::span<const std::byte, kHeaderSize>(bytes.data(), kHeaderSize), &len);
      if (!again || len != fr.payload.size() || again->type != fr.type ||
          again->flags != fr.flags || again->stream != fr.stream)
        abort();
      if (fr.type == FrameType::kWindow) {
        bool ok = false;
        decode_window(fr.payload, &ok);
        if (!ok) abort();
      }
    }
    if (failed) {
      auto g = dec.next();
      if (!g || g->ok()) abort();  // stays failed
      break;
    }
  }
  return 0;
}
