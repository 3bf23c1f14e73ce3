#pragma once
// `ferry down RUN|--all`: stops the instances of a run that are still up
// (kept with `--keep`, or left by a run that stopped), at any provider, and
// confirms each is gone before closing its record.

#include <cstdio>
#include <string>

#include "controller/exit_codes.hpp"

namespace ferry::controller {

/// Stops every instance of `run_id` (all runs when empty) not yet destroyed;
/// returns teardown_failed if one could not be stopped.
ExitCode take_down(const std::string& run_id, std::FILE* out = stdout, std::FILE* err = stderr);

}  // namespace ferry::controller
