#pragma once
// The `ferry` command line (CLI11): parses arguments and dispatches to the
// subcommands. Parse errors exit with ExitCode::usage, never CLI11's codes.

namespace ferry::controller {

/// Runs ferry with the process's arguments; returns the exit status.
int run_cli(int argc, char** argv);

}  // namespace ferry::controller
