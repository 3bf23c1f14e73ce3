#pragma once
// Calibrates `--dry-run`'s estimate on this machine's own past runs: how
// long an instance of a provider bills beyond the work its agent does
// (create, boot, agent start-up, transfers, teardown), and how the agent's
// real job times compare with the built-in rates, per job kind. Pure: the
// state store reads the history (StateStore::past_instances, past_jobs);
// this turns it into figures, falling back to the built-in allowances where
// there is too little history, and says which it used.

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::controller {

/// One instance an earlier run created and tore down itself (destroy
/// accepted, gone confirmed).
struct PastInstance {
  std::string provider;
  /// Billed time: from the create call to the provider accepting the destroy.
  double billed_s = 0;
  /// The agent's own work on the jobs this instance ran.
  double agent_work_s = 0;
  /// Whether its agent became READY; one that did not still billed, and its
  /// time counts as overhead of the instances that did (a failover's cost).
  bool came_up = true;
  /// The run it served: history is taken in whole runs.
  std::string run_id;
};

/// One succeeded job of an earlier run whose built-in prediction is known.
struct PastJob {
  std::string kind;   ///< separate | convert | loop | generate
  double expected_s = 0;  ///< expected_job_time when it was submitted
  double work_s = 0;      ///< the agent's time on it (started -> finished)
};

/// How much history is read and trusted.
struct CalibrationLimits {
  /// The newest runs of a provider, whole, until they hold this many
  /// instances: a large run counts entirely rather than its last instances,
  /// which started last and lived shortest.
  std::size_t instances_per_provider = 50;
  std::size_t jobs_per_kind = 200;          ///< the newest this many jobs per kind
  std::size_t min_instances = 3;            ///< fewer instances that came up: the default allowance
  std::size_t min_jobs = 3;                 ///< fewer jobs: the built-in rates
};

/// A provider's start-up and teardown overhead per instance, from history.
struct StartupHistory {
  std::chrono::milliseconds per_instance{0};
  std::size_t samples = 0;  ///< instances that came up, in the mean
  bool trusted = false;     ///< samples reach the minimum
};

/// A job kind's ratio of real to predicted time, from history.
struct JobTimeHistory {
  double factor = 1;
  std::size_t samples = 0;  ///< jobs in the ratio
  bool trusted = false;     ///< samples reach the minimum
};

/// What the history says, per provider and per job kind it has rows for.
struct Calibration {
  std::map<std::string, StartupHistory> startup_by_provider;
  std::map<std::string, JobTimeHistory> job_time_by_kind;
  std::size_t min_instances = CalibrationLimits{}.min_instances;
  std::size_t min_jobs = CalibrationLimits{}.min_jobs;
};

/// From history rows, newest first (older rows past the limits are
/// ignored; instances in whole runs): per provider, the mean over its instances that came up of
/// (billed time - agent work), each clamped at 0, with the billed time of
/// those that never came up spread over them; per kind, sum(work) /
/// sum(expected). Under the minimum a figure is computed but not trusted.
Calibration calibrate(const std::vector<PastInstance>& instances, const std::vector<PastJob>& jobs,
                      const CalibrationLimits& limits = {});

/// Where an estimate's figure came from.
enum class EstimateBasis { history, default_allowance };
/// "history" or "default", as `--dry-run --json` writes it.
std::string_view to_string(EstimateBasis basis);

/// The start-up allowance `--dry-run` uses for a provider, and why.
struct StartupEstimate {
  std::chrono::milliseconds per_instance{0};
  EstimateBasis basis = EstimateBasis::default_allowance;
  std::size_t samples = 0;  ///< past instances seen (too few when the basis is the default)
  std::size_t needed = 0;   ///< the minimum for history to be used
};

/// The factor applied to a job kind's built-in time, and why.
struct JobTimeEstimate {
  double factor = 1;
  EstimateBasis basis = EstimateBasis::default_allowance;
  std::size_t samples = 0;  ///< past jobs seen (too few when the basis is the default)
  std::size_t needed = 0;
};

/// The calibrated start-up for `provider`, or expected_startup's default.
StartupEstimate startup_estimate(const Calibration& calibration, const std::string& provider);
/// The calibrated factor for `kind`, or 1 (the built-in rates).
JobTimeEstimate job_time_estimate(const Calibration& calibration, const std::string& kind);

/// "start-up: 4.2s per instance, mean of 20 past vast instances" or
/// "start-up: 5m per instance, default allowance (no history at vast yet)".
std::string describe_startup(const StartupEstimate& estimate, const std::string& provider);
/// "convert: 0.42 x the built-in rate, from 20 past jobs" or
/// "separate: built-in rate (no history yet)".
std::string describe_job_time(const JobTimeEstimate& estimate, const std::string& kind);

}  // namespace ferry::controller
