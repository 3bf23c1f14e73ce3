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

/// A run and the instances it started.
struct RunOverview {
  RunRecord run;
  std::vector<InstanceRecord> instances;
};

/// What a run's instances have cost up to `now` (see instance_cost).
double run_cost(const std::vector<InstanceRecord>& instances, UnixSeconds now);

/// The human table: ID NAME PROVIDER STATE JOBS COST STARTED DURATION, a
/// line per instance of the cloud runs (provider, id, state, price, cost so
/// far) and the total cost so far.
std::string format_runs_table(const std::vector<RunOverview>& runs, UnixSeconds now);

/// One run with its jobs and instances (each with its price and cost so
/// far) and the run's cost, for --json.
nlohmann::json run_to_json(const RunRecord& run, const std::vector<JobRecord>& jobs,
                           const std::vector<InstanceRecord>& instances, UnixSeconds now);

/// Prints the runs; returns the exit code.
ExitCode show_status(bool json, std::FILE* out = stdout, std::FILE* err = stderr);

}  // namespace ferry::controller
