// The I/O half of debian_packages.h: reading a .deb's identity (dpkg-deb)
// and writing the flat repository the install step reads. The parsing half
// (debian_packages.cc) does no I/O, so it can be fuzzed on its own.
#include <sys/stat.h>

#include <string>
#include <vector>

#include "base/command.h"
#include "base/digest.h"
#include "base/sys.h"
#include "image/debian_packages.h"

namespace hull::image {

namespace {

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<DebPackage> read_deb_identity(const std::string& deb_path) {
  HULL_ASSIGN(auto out, Command("dpkg-deb")
                            .arg("--showformat=${Package}\\n${Version}\\n${Architecture}\\n")
                            .arg("--show")
                            .arg(deb_path)
                            .capture_stdout(4096)
                            .run());
  std::vector<std::string> f;
  size_t pos = 0;
  while (pos < out.out.size() && f.size() < 4) {
    size_t end = out.out.find('\n', pos);
    if (end == std::string::npos) end = out.out.size();
    f.push_back(out.out.substr(pos, end - pos));
    pos = end + 1;
  }
  if (f.size() != 3 || !valid_package_name(f[0]) || !valid_package_version(f[1]) ||
      !valid_architecture(f[2]))
    return make_error("read " + deb_path, "not a well-formed Debian package");
  DebPackage p{f[0], f[1], f[2], {}, 0};
  return p;
}

Status write_flat_repo(const std::string& dir, const std::vector<std::string>& files,
                       const std::string& suite, const std::string& date) {
  std::string packages;
  for (const auto& name : files) {
    const std::string path = dir + "/" + name;
    HULL_ASSIGN(auto ctl, Command("dpkg-deb").arg("--field").arg(path).capture_stdout(1u << 20).run());
    HULL_ASSIGN(std::string sum, sha256_file_hex(path));
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return sys_error("stat " + path);
    std::string stanza = std::string(trim(ctl.out));
    if (stanza.empty()) return make_error("index " + path, "dpkg-deb printed no control fields");
    packages += stanza + "\nFilename: ./" + name + "\nSize: " + std::to_string(st.st_size) +
                "\nSHA256: " + sum + "\n\n";
  }
  HULL_TRY(sys::write_file_atomic(dir + "/Packages", packages));
  const std::string release = "Origin: hull\nLabel: hull lock\nSuite: " + suite + "\nCodename: " + suite +
                              "\nDate: " + date + "\nSHA256:\n " + sha256_hex(packages) + " " +
                              std::to_string(packages.size()) + " Packages\n";
  return sys::write_file_atomic(dir + "/Release", release);
}

}  // namespace hull::image
