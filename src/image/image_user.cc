#include "image/image_user.h"

#include <unistd.h>

#include <charconv>
#include <optional>
#include <vector>

#include "base/fd.h"
#include "base/sys.h"
#include "image/rootfs_file.h"

namespace hull::image {

namespace {

constexpr size_t kMaxFileBytes = 4u << 20;
constexpr uint32_t kMaxId = 4294967294u;  // (uid_t)-1 means "unchanged" to setresuid

Result<std::string> read_in_root(const std::string& rootfs, const char* rel) {
  HULL_ASSIGN(std::optional<std::string> text, read_rootfs_file(rootfs, rel, kMaxFileBytes));
  if (!text) return make_error(std::string("read the image's /") + rel, "No such file or directory");
  return std::move(*text);
}

std::optional<uint32_t> parse_id(std::string_view s) {
  uint32_t v = 0;
  if (s.empty() || s.size() > 10) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > kMaxId) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (out.size() < 16) {
    size_t j = line.find(sep, i);
    out.push_back(line.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return out;
}

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0, gid = 0;
  std::string home;
};

// name:x:uid:gid:gecos:home:shell; malformed lines are skipped (so is
// anything a hostile image puts there), never trusted halfway.
std::vector<PasswdEntry> parse_passwd(std::string_view text) {
  std::vector<PasswdEntry> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    auto f = split(text.substr(pos, end - pos), ':');
    pos = end + 1;
    if (f.size() != 7) continue;
    auto uid = parse_id(f[2]);
    auto gid = parse_id(f[3]);
    if (!uid || !gid || f[0].empty() || f[5].empty() || f[5][0] != '/') continue;
    out.push_back({std::string(f[0]), *uid, *gid, std::string(f[5])});
  }
  return out;
}

Result<uint32_t> group_id(const std::string& rootfs, const std::string& group) {
  if (auto id = parse_id(group)) return *id;
  HULL_ASSIGN(std::string text, read_in_root(rootfs, "etc/group"));
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    auto f = split(std::string_view(text).substr(pos, end - pos), ':');
    pos = end + 1;
    if (f.size() == 4 && f[0] == group)
      if (auto gid = parse_id(f[2])) return *gid;
  }
  return make_error("user group '" + group + "'", "it is not in the image's /etc/group");
}

}  // namespace

Result<ImageUser> resolve_image_user(const std::string& rootfs, const std::string& user) {
  if (user.empty() || user == "root" || user == "0" || user == "0:0") return ImageUser{};
  const size_t colon = user.find(':');
  const std::string who = user.substr(0, colon);
  const std::optional<std::string> group =
      colon == std::string::npos ? std::nullopt : std::optional<std::string>(user.substr(colon + 1));
  std::vector<PasswdEntry> passwd;
  if (auto text = read_in_root(rootfs, "etc/passwd")) passwd = parse_passwd(*text);
  ImageUser u;
  if (auto uid = parse_id(who)) {
    u.uid = *uid;
    u.gid = *uid;
    u.home = "/";
    for (const auto& e : passwd)
      if (e.uid == *uid) {
        u.gid = e.gid;
        u.home = e.home;
        break;
      }
  } else {
    const PasswdEntry* found = nullptr;
    for (const auto& e : passwd)
      if (e.name == who) found = &e;
    if (found == nullptr)
      return make_error("user '" + who + "'", "it is not in the image's /etc/passwd; use a uid (e.g. 1000:1000) or "
                                              "create the user in the image");
    u = {found->uid, found->gid, found->home};
  }
  if (group) {
    HULL_ASSIGN(u.gid, group_id(rootfs, *group));
  }
  return u;
}

}  // namespace hull::image
