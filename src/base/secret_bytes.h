// SecretBytes: a buffer for a secret value (an API key, a rendered
// credential header, a CA private key's PEM) that is wiped when it goes away.
//
// Why its own type: std::string may copy, grow (leaving the old buffer
// un-wiped on the heap) or land in an error message. SecretBytes allocates
// once, at a fixed capacity, is move-only, and cleanses the whole capacity
// on destruction. Nothing here prints it; callers pass view() only where the
// value must go (a file, a header on the wire).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

namespace hull {

class SecretBytes {
 public:
  SecretBytes() = default;
  // Room for `capacity` bytes, size 0.
  explicit SecretBytes(size_t capacity);
  ~SecretBytes();
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& o) noexcept;
  SecretBytes& operator=(SecretBytes&& o) noexcept;

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {data_.get(), size_}; }

  // Appends; false (and nothing appended) if it would not fit the capacity.
  bool append(std::string_view s);
  // The unused room after size(), for a read(2) straight into the buffer;
  // then grow_by(n) to count what was read.
  std::span<char> spare();
  void grow_by(size_t n);
  // Drops bytes from the end (they are wiped at once).
  void shrink_to(size_t n);

 private:
  void wipe();
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace hull
