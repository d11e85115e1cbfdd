// Fuzz decode_message with arbitrary payloads. Properties: never crashes or
// throws; whatever it accepts re-encodes to bytes it accepts again, with the
// same encoding (decode is the exact inverse of encode on its image).
#include <cstdlib>
#include <span>
#include <string>

#include "wire/messages.h"

using namespace hull::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  auto m = decode_message(in);
  if (!m) return 0;
  std::string once = encode_message(*m);
  auto again = decode_message(std::span(reinterpret_cast<const std::byte*>(once.data()), once.size()));
  if (!again || again->index() != m->index()) abort();
  if (encode_message(*again) != once) abort();
  return 0;
}
