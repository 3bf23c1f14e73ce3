#pragma once
// `ferry status`: the runs in the state store, as a table or JSON.

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "controller/exit_codes.hpp"
#include "controller/state_store.hpp"

namespace ferry::controller {

/// "1h02m03s" style duration of a run, "-" while unknown.
std::string format_run_duration(const RunRecord& run, UnixSeconds now);

/// The human table: ID NAME PROVIDER STATE JOBS STARTED DURATION.
std::string format_runs_table(const std::vector<RunRecord>& runs, UnixSeconds now);

/// One run with its jobs and instances, for --json.
nlohmann::json run_to_json(const RunRecord& run, const std::vector<JobRecord>& jobs,
                           const std::vector<InstanceRecord>& instances);

/// Prints the runs; returns the exit code.
ExitCode show_status(bool json, std::FILE* out = stdout, std::FILE* err = stderr);

}  // namespace ferry::controller
