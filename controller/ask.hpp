#pragma once
// Yes-or-no questions on the terminal, for commands that spend or destroy.

#include <string>

namespace ferry::controller {

/// Prints "QUESTION [y/N] " on stderr and reads one line from stdin: true
/// only for y, Y or yes. Callers check first that stdin is a terminal.
bool ask_on_terminal(const std::string& question);

}  // namespace ferry::controller
