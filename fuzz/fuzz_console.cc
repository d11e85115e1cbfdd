// Fuzz the guest-console judge (the bytes a hostile guest writes to its
// serial console). Properties: never crashes; what it returns is printable
// and bounded, whatever came in.
#include <cstdlib>
#include <string_view>

#include "backend/microvm/console.h"

using namespace hull::backend::microvm;

namespace {
void check_printable(const std::string& s, size_t max) {
  if (s.size() > max) abort();
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c != '\t' && (c < 0x20 || c >= 0x7f)) abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ConsoleVerdict v = judge_console(bytes, size % 2 == 0);
  check_printable(v.summary, kConsoleLineMax + 64);
  if (v.tail.size() > kConsoleTailLines) abort();
  for (const auto& l : v.tail) check_printable(l, kConsoleLineMax + 3);
  return 0;
}
