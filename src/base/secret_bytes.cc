#include "base/secret_bytes.h"

#include <openssl/crypto.h>

#include <cstring>
#include <utility>

namespace hull {

SecretBytes::SecretBytes(size_t capacity)
    : data_(new char[capacity == 0 ? 1 : capacity]), capacity_(capacity) {}

SecretBytes::~SecretBytes() { wipe(); }

SecretBytes::SecretBytes(SecretBytes&& o) noexcept
    : data_(std::move(o.data_)),
      size_(std::exchange(o.size_, 0)),
      capacity_(std::exchange(o.capacity_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& o) noexcept {
  if (this != &o) {
    wipe();
    data_ = std::move(o.data_);
    size_ = std::exchange(o.size_, 0);
    capacity_ = std::exchange(o.capacity_, 0);
  }
  return *this;
}

bool SecretBytes::append(std::string_view s) {
  if (s.size() > capacity_ - size_) return false;
  if (!s.empty()) std::memcpy(data_.get() + size_, s.data(), s.size());
  size_ += s.size();
  return true;
}

std::span<char> SecretBytes::spare() { return {data_.get() + size_, capacity_ - size_}; }

void SecretBytes::grow_by(size_t n) { size_ += n <= capacity_ - size_ ? n : capacity_ - size_; }

void SecretBytes::shrink_to(size_t n) {
  if (n >= size_) return;
  // OPENSSL_cleanse: a memset the compiler may not drop as a dead store.
  OPENSSL_cleanse(data_.get() + n, size_ - n);
  size_ = n;
}

void SecretBytes::wipe() {
  if (data_) OPENSSL_cleanse(data_.get(), capacity_);
  data_.reset();
  size_ = 0;
  capacity_ = 0;
}

}  // namespace hull
