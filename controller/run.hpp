#pragma once
// `ferry run`: manifest -> plan -> offers -> instances (local or cloud, as
// many as `instances:` asks, each an InstanceWorker on a bounded thread
// pool) -> uploads -> jobs -> outputs -> teardown, each step recorded in the
// state store before its side effect. Ctrl-C, SIGTERM, `budget:` and
// `max_duration:` stop the run and tear every instance down.

#include <cstdio>
#include <filesystem>
#include <string>

#include "controller/exit_codes.hpp"

namespace ferry::controller {

struct RunOptions {
  std::filesystem::path manifest;
  bool dry_run = false;  ///< print the plan and stop
  bool keep = false;     ///< leave the agent running at the end
  bool yes = false;      ///< rent cloud instances without asking (none are asked for `local`)
  bool json = false;     ///< machine-readable plan / summary on stdout
};

/// Runs the command; prints data on `out` (stdout) and progress and errors
/// on `err` (stderr). Returns the exit code from the one table.
ExitCode run_manifest(const RunOptions& options, std::FILE* out = stdout, std::FILE* err = stderr);

/// A fresh run id: "YYYYMMDD-HHMMSS-xxxx" (UTC, 4 random hex digits), valid
/// as an agent job id prefix.
std::string new_run_id();

/// A fresh bearer token: 32 random bytes as 64 hex characters.
std::string new_agent_token();

}  // namespace ferry::controller
