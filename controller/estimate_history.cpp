#include "controller/estimate_history.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "config/units.hpp"
#include "controller/cloud_plan.hpp"

namespace ferry::controller {
namespace {

using std::chrono::milliseconds;

struct OverheadSums {
  double overhead_s = 0;  ///< of the instances that came up, each clamped at 0
  double failed_s = 0;    ///< billed by instances that never came up
  std::size_t seen = 0;   ///< rows taken, within the window
  std::size_t came_up = 0;
  std::string last_run;   ///< the run of the last row taken
};

struct JobSums {
  double work_s = 0;
  double expected_s = 0;
  std::size_t seen = 0;
};

// Display precision: a tenth of a second is as exact as the history is.
milliseconds tenths(milliseconds duration) { return milliseconds((duration.count() + 50) / 100 * 100); }

}  // namespace

Calibration calibrate(const std::vector<PastInstance>& instances, const std::vector<PastJob>& jobs,
                      const CalibrationLimits& limits) {
  Calibration calibration;
  calibration.min_instances = limits.min_instances;
  calibration.min_jobs = limits.min_jobs;

  std::map<std::string, OverheadSums> overheads;
  for (const auto& instance : instances) {
    auto& sums = overheads[instance.provider];
    // Past the window, only the rest of the run already begun.
    if (sums.seen >= limits.instances_per_provider && instance.run_id != sums.last_run) continue;
    ++sums.seen;
    sums.last_run = instance.run_id;
    const double billed = std::max(0.0, instance.billed_s);
    if (!instance.came_up) {
      sums.failed_s += billed;
      continue;
    }
    ++sums.came_up;
    // Work longer than the bill (clocks of two machines) is no negative overhead.
    sums.overhead_s += std::max(0.0, billed - std::max(0.0, instance.agent_work_s));
  }
  for (const auto& [provider, sums] : overheads) {
    if (sums.came_up == 0) continue;
    StartupHistory history;
    history.samples = sums.came_up;
    history.trusted = sums.came_up >= limits.min_instances;
    const double mean_s = (sums.overhead_s + sums.failed_s) / static_cast<double>(sums.came_up);
    history.per_instance = milliseconds(static_cast<std::int64_t>(std::llround(mean_s * 1000)));
    calibration.startup_by_provider[provider] = history;
  }

  std::map<std::string, JobSums> job_sums;
  for (const auto& job : jobs) {
    // A prediction of nothing says nothing about the rate.
    if (job.expected_s <= 0 || job.work_s < 0) continue;
    auto& sums = job_sums[job.kind];
    if (sums.seen >= limits.jobs_per_kind) continue;
    ++sums.seen;
    sums.work_s += job.work_s;
    sums.expected_s += job.expected_s;
  }
  for (const auto& [kind, sums] : job_sums) {
    JobTimeHistory history;
    history.samples = sums.seen;
    history.trusted = sums.seen >= limits.min_jobs;
    history.factor = sums.work_s / sums.expected_s;
    calibration.job_time_by_kind[kind] = history;
  }
  return calibration;
}

std::string_view to_string(EstimateBasis basis) {
  return basis == EstimateBasis::history ? "history" : "default";
}

StartupEstimate startup_estimate(const Calibration& calibration, const std::string& provider) {
  StartupEstimate estimate;
  estimate.needed = calibration.min_instances;
  estimate.per_instance = expected_startup(provider);
  auto found = calibration.startup_by_provider.find(provider);
  if (found == calibration.startup_by_provider.end()) return estimate;
  estimate.samples = found->second.samples;
  if (!found->second.trusted) return estimate;
  estimate.basis = EstimateBasis::history;
  estimate.per_instance = found->second.per_instance;
  return estimate;
}

JobTimeEstimate job_time_estimate(const Calibration& calibration, const std::string& kind) {
  JobTimeEstimate estimate;
  estimate.needed = calibration.min_jobs;
  auto found = calibration.job_time_by_kind.find(kind);
  if (found == calibration.job_time_by_kind.end()) return estimate;
  estimate.samples = found->second.samples;
  if (!found->second.trusted) return estimate;
  estimate.basis = EstimateBasis::history;
  estimate.factor = found->second.factor;
  return estimate;
}

std::string describe_startup(const StartupEstimate& estimate, const std::string& provider) {
  if (estimate.basis == EstimateBasis::history)
    return fmt::format("start-up: {} per instance, mean of {} past {} instance{}",
                       config::format_duration(tenths(estimate.per_instance)), estimate.samples, provider,
                       estimate.samples == 1 ? "" : "s");
  std::string why = estimate.samples == 0
                        ? fmt::format("no history at {} yet", provider)
                        : fmt::format("only {} past {} instance{}, {} needed", estimate.samples, provider,
                                      estimate.samples == 1 ? "" : "s", estimate.needed);
  return fmt::format("start-up: {} per instance, default allowance ({})",
                     config::format_duration(estimate.per_instance), why);
}

std::string describe_job_time(const JobTimeEstimate& estimate, const std::string& kind) {
  if (estimate.basis == EstimateBasis::history)
    return fmt::format("{}: {:.2f} x the built-in rate, from {} past job{}", kind, estimate.factor, estimate.samples,
                       estimate.samples == 1 ? "" : "s");
  if (estimate.samples == 0) return fmt::format("{}: built-in rate (no history yet)", kind);
  return fmt::format("{}: built-in rate (only {} past job{}, {} needed)", kind, estimate.samples,
                     estimate.samples == 1 ? "" : "s", estimate.needed);
}

}  // namespace ferry::controller
