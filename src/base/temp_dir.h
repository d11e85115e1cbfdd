// TempDir: a mkdtemp directory removed (recursively) on destruction.
#pragma once

#include <string>

#include "base/result.h"

namespace hull {

class TempDir {
 public:
  static Result<TempDir> create(const std::string& parent, const std::string& prefix = "hull-");
  TempDir(TempDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  TempDir& operator=(TempDir&&) = delete;
  TempDir(const TempDir&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }
  // Keep the directory (e.g. it was renamed into its final place).
  std::string release() { return std::exchange(path_, {}); }

 private:
  explicit TempDir(std::string p) : path_(std::move(p)) {}
  std::string path_;
};

}  // namespace hull
