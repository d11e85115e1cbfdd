#include "base/log.h"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>

namespace hull::log {

namespace {
std::string g_component = "hull";
std::string g_prefix;

void apply_pattern() {
  std::string p = "[%Y-%m-%dT%H:%M:%S.%e] [%l] [" + g_component + "]";
  if (!g_prefix.empty()) p += " [" + g_prefix + "]";
  p += " %v";
  spdlog::set_pattern(p);
}
}  // namespace

void init(const std::string& component, const std::string& default_level) {
  g_component = component;
  auto logger = spdlog::stderr_color_mt(component + "-stderr");
  spdlog::set_default_logger(logger);
  const char* env = std::getenv("HULL_LOG");
  spdlog::set_level(spdlog::level::from_str(env != nullptr ? env : default_level));
  apply_pattern();
}

void to_file(const std::string& path, size_t max_bytes) {
  auto level = spdlog::get_level();
  auto logger = spdlog::rotating_logger_mt(g_component + "-file-" + path, path, max_bytes, 1);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  spdlog::set_level(level);
  apply_pattern();
}

void set_prefix(const std::string& prefix) {
  g_prefix = prefix;
  apply_pattern();
}

}  // namespace hull::log
