// Result<T>: a value or an Error that says which operation failed, the errno,
// and the path/argument involved, so the CLI can print one actionable line.
//
// Why our own type: tl::expected is not packaged in Debian 12 and
// std::expected needs C++23; this is the ~80-line subset we use.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace hull {

struct Error {
  std::string op;      // what we tried: "mount /workspace", "connect control socket"
  int err = 0;         // errno, or 0 when not a syscall failure
  std::string detail;  // extra context or the next step for the user

  // "mount /workspace: EPERM (is userns enabled? see hull doctor)"
  std::string message() const;
};

Error sys_error(std::string op, int err = errno, std::string detail = {});
Error make_error(std::string op, std::string detail = {});

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error e) : v_(std::move(e)) {}      // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : e_(std::move(e)), ok_(false) {}  // NOLINT: implicit by design

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return e_; }

 private:
  Error e_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() { return {}; }

}  // namespace hull

// Propagate an error from an expression returning Result<...>.
#define HULL_TRY(expr)                                  \
  do {                                                  \
    auto&& hull_try_r_ = (expr);                        \
    if (!hull_try_r_.ok()) return hull_try_r_.error();  \
  } while (0)

#define HULL_CONCAT_INNER_(a, b) a##b
#define HULL_CONCAT_(a, b) HULL_CONCAT_INNER_(a, b)
// HULL_ASSIGN(auto fd, open_file(...)); declares `fd` or returns the error.
#define HULL_ASSIGN(decl, expr) HULL_ASSIGN_IMPL_(decl, expr, HULL_CONCAT_(hull_r_, __LINE__))
#define HULL_ASSIGN_IMPL_(decl, expr, tmp)   \
  auto tmp = (expr);                         \
  if (!tmp.ok()) return tmp.error();         \
  decl = std::move(tmp).value()
