#pragma once
// Logging goes to stderr through spdlog; stdout is reserved for data.

#include <string_view>

namespace ferry {

/// Sets up the default spdlog logger on stderr. `level` is one of trace,
/// debug, info, warn, error, off (FERRY_LOG_LEVEL overrides it). Colour only
/// when stderr is a terminal and NO_COLOR is unset.
void init_logging(std::string_view program, std::string_view level = "info");

/// True when colour and animation may be used on this stream: it is a
/// terminal, NO_COLOR is unset or empty, and TERM is not "dumb".
bool terminal_allows_decoration(int fd);

}  // namespace ferry
