#pragma once
// `ferry down RUN|--all`: stops the instances of a run that are still up
// (in this version: local agents kept with `--keep`).

#include <cstdio>
#include <string>

#include "controller/exit_codes.hpp"

namespace ferry::controller {

/// Stops every instance of `run_id` (all runs when empty) not yet destroyed;
/// returns teardown_failed if one could not be stopped.
ExitCode take_down(const std::string& run_id, std::FILE* out = stdout, std::FILE* err = stderr);

}  // namespace ferry::controller
