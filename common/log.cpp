#include "common/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace ferry {

bool terminal_allows_decoration(int fd) {
  if (!::isatty(fd)) return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  const char* term = std::getenv("TERM");
  return !(term && std::string_view(term) == "dumb");
}

void init_logging(std::string_view program, std::string_view level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(
      terminal_allows_decoration(STDERR_FILENO) ? spdlog::color_mode::automatic
                                                : spdlog::color_mode::never);
  auto logger = std::make_shared<spdlog::logger>(std::string(program), sink);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %n: %v");
  std::string chosen(level);
  if (const char* env = std::getenv("FERRY_LOG_LEVEL"); env && *env) chosen = env;
  logger->set_level(spdlog::level::from_str(chosen));
  spdlog::set_default_logger(logger);
}

}  // namespace ferry
