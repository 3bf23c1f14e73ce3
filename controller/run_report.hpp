#pragma once
// The end of `ferry run`: one verdict (exit code, run state, the error to
// show) from how the instances and the jobs ended, and the summary: result
// paths or JSON on stdout, closing lines on stderr.

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/error.hpp"
#include "controller/exit_codes.hpp"
#include "controller/lifecycle.hpp"
#include "controller/shared_run.hpp"
#include "controller/state_store.hpp"

namespace ferry::controller {

/// How one instance of the run ended.
struct InstanceReport {
  std::string provider;
  std::string instance_id;  ///< empty when no create succeeded
  std::string endpoint;
  double price_per_hour = 0;
  Outcome outcome = Outcome::pending;
  std::optional<Error> error;  ///< the lifecycle's: why it failed or could not be torn down
  bool came_up = false;        ///< its agent was READY at some point
  std::optional<Error> lost;   ///< it stopped while running jobs
};

struct RunVerdict {
  ExitCode code = ExitCode::ok;
  RunState state = RunState::succeeded;
  std::optional<Error> error;  ///< shown as "error: ..." (not for Ctrl-C)
  std::string message;         ///< kept in the run record
};

/// Pure. In order: an instance that may still bill (teardown_failed, 7);
/// Ctrl-C/SIGTERM (130); budget or max_duration that stopped some job (6); no instance came up
/// (the bring-up error's code); jobs that failed (1); success.
RunVerdict judge_run(const std::vector<InstanceReport>& instances, const std::vector<TrackedJob>& jobs,
                     const std::optional<Error>& stop);

/// Where to remove an instance by hand ("https://cloud.vast.ai/instances/").
std::string provider_console(const std::string& provider);

/// The lines that name each instance that may still bill and what to do.
std::vector<std::string> teardown_failure_lines(const std::vector<InstanceReport>& instances,
                                                const std::string& run_id);

/// The run's JSON summary (`--json`).
nlohmann::json run_summary_json(const RunRecord& run, const std::string& output_dir, ExitCode code,
                                 const std::vector<TrackedJob>& jobs, const std::vector<InstanceReport>& instances,
                                 double cost, bool keep);

}  // namespace ferry::controller
