// A copy of tests/data/nix-hello (an input-free flake whose only tool is a
// static busybox) in the test's HULL_HOME, for tests that need a real image
// built in well under a second. Skips, saying what is missing, where nix-bin
// or busybox-static cannot do it.
#pragma once

#include <elf.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli_harness.h"
#include "image/nix_builder.h"

namespace hull::testing {

inline const std::filesystem::path kNixFlakeDir =
    std::filesystem::path(__FILE__).parent_path().parent_path() / "data" / "nix-hello";
inline constexpr const char* kBusybox = "/bin/busybox";

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Nothing but the builder exists in the nix sandbox, so it must not need a
// dynamic loader: an ELF with no PT_INTERP (Debian's busybox-static, not
// busybox).
inline bool is_static_elf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr eh{};
  if (!in.read(reinterpret_cast<char*>(&eh), sizeof eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return false;
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    in.seekg(static_cast<std::streamoff>(eh.e_phoff + static_cast<uint64_t>(i) * eh.e_phentsize));
    if (!in.read(reinterpret_cast<char*>(&ph), sizeof ph)) return false;
    if (ph.p_type == PT_INTERP) return false;
  }
  return true;
}

class NixProjectTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (auto u = image::nix_usable(); !u) GTEST_SKIP() << "nix cannot build here: " << u.error().message();
    if (!is_static_elf(kBusybox))
      GTEST_SKIP() << kBusybox << " is missing or not static; apt-get install busybox-static";
    // A copy: the test adds the busybox binary and nix may write flake.lock.
    project_ = home_ + "/nix-hello";
    std::filesystem::copy(kNixFlakeDir, project_, std::filesystem::copy_options::recursive);
    std::filesystem::copy_file(kBusybox, project_ + "/busybox");
    // No substituter: this machine is offline, and nix would spend ~5 s per
    // build retrying cache.nixos.org. NIX_CONFIG reaches nix through hull.
    ::setenv("NIX_CONFIG", "substituters =\n", 1);
  }

  void set_base(const std::string& base) {
    std::string toml = slurp(project_ + "/hull.toml");
    size_t at = toml.find("nix:.#default");
    ASSERT_NE(at, std::string::npos);
    toml.replace(at, std::string("nix:.#default").size(), base);
    std::ofstream(project_ + "/hull.toml", std::ios::trunc) << toml;
  }

  // Appends TOML text (a [sandbox] table, say) to the project's hull.toml.
  void append_to_spec(const std::string& toml) {
    std::ofstream(project_ + "/hull.toml", std::ios::app) << "\n" << toml;
  }

  std::string project_;
};

}  // namespace hull::testing
