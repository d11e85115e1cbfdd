#include "backend/microvm/console.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/sys.h"

namespace hull::backend::microvm {

namespace {

// The text after `marker` on the last line that has it, or "".
std::string last_after(const std::vector<std::string_view>& lines, std::string_view marker) {
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    size_t at = it->find(marker);
    if (at != std::string_view::npos) return printable(it->substr(at + marker.size()));
  }
  return {};
}

}  // namespace

std::string printable(std::string_view line, size_t max) {
  std::string out;
  out.reserve(std::min(line.size(), max));
  for (char ch : line) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(ch);
    out += (c == '\t' || (c >= 0x20 && c < 0x7f)) ? ch : '?';
  }
  return out;
}

ConsoleVerdict judge_console(std::string_view bytes, bool reached_cap) {
  if (bytes.size() > kConsoleTailBytes) bytes = bytes.substr(bytes.size() - kConsoleTailBytes);
  std::vector<std::string_view> lines;
  size_t i = 0;
  while (i < bytes.size()) {
    size_t nl = bytes.find('\n', i);
    if (nl == std::string_view::npos) nl = bytes.size();
    std::string_view l = bytes.substr(i, nl - i);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (!l.empty()) lines.push_back(l);
    i = nl + 1;
  }
  ConsoleVerdict v;
  // Most telling first: a panic explains everything after it; the agent's
  // own last words explain a clean but early end; a full log explains silence.
  if (auto p = last_after(lines, "Kernel panic - not syncing: "); !p.empty()) {
    v.summary = "guest kernel panicked: " + p;
  } else if (auto a = last_after(lines, "hull-agent: "); !a.empty()) {
    v.summary = "guest agent stopped: " + a;
  } else if (reached_cap) {
    v.summary = "guest flooded its console (log capped)";
  }
  // The tail: the last lines, or after a panic the lines leading up to it
  // (what follows a panic line is a stack dump that says less).
  size_t end = lines.size();
  if (!v.summary.empty() && v.summary.rfind("guest kernel panicked", 0) == 0) {
    for (size_t k = lines.size(); k-- > 0;) {
      if (lines[k].find("Kernel panic - not syncing: ") != std::string_view::npos) {
        end = k + 1;
        break;
      }
    }
  }
  size_t from = end > kConsoleTailLines ? end - kConsoleTailLines : 0;
  for (size_t k = from; k < end; ++k) v.tail.push_back(printable(lines[k]));
  return v;
}

Result<ConsoleVerdict> judge_console_file(const std::string& path, uint64_t cap) {
  HULL_ASSIGN(UniqueFd fd, sys::open(path, O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) return sys_error("stat " + path);
  const auto size = static_cast<uint64_t>(st.st_size);
  const uint64_t start = size > kConsoleTailBytes ? size - kConsoleTailBytes : 0;
  std::string buf(size - start, '\0');
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::pread(fd.get(), buf.data() + got, buf.size() - got, static_cast<off_t>(start + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read " + path);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  buf.resize(got);
  return judge_console(buf, size >= cap);
}

std::string describe_console(const ConsoleVerdict& v, const std::string& path) {
  std::string s = v.summary;
  if (v.tail.empty()) return s;
  s += "\n  console (last " + std::to_string(v.tail.size()) + " lines of " + path + "):";
  for (const auto& l : v.tail) s += "\n  | " + l;
  return s;
}

}  // namespace hull::backend::microvm
