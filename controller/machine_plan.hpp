#pragma once
// The machine side of a run's plan: how many instances, which offer each
// starts on, how the jobs are expected to spread over them and what that is
// expected to cost, calibrated on this machine's past runs where it has
// them (estimate_history.hpp). Shown by `ferry run --dry-run` (and before a
// cloud run).

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "config/manifest.hpp"
#include "common/error.hpp"
#include "controller/cloud_plan.hpp"
#include "controller/estimate_history.hpp"
#include "controller/plan.hpp"
#include "providers/provider.hpp"

namespace ferry::controller {

struct MachinePlan {
  std::string provider;
  /// The offer each instance tries first (see offers_for_instance).
  std::vector<providers::Offer> first_offers;
  std::size_t offers_ranked = 0;  ///< fallbacks when a first offer fails
  StartupEstimate startup;        ///< per instance, and where it came from
  std::map<std::string, JobTimeEstimate> job_times;  ///< per job kind in the plan
  CostEstimate estimate;
};

/// The number of instances a run starts: the manifest's `instances`, but
/// never more than there are jobs.
std::size_t instances_for(const config::Manifest& manifest, const Plan& plan);

/// Plans the machines for `plan` on the ranked offers. Job times come from
/// expected_job_time with the local inputs' sizes, scaled by the kind's
/// calibrated factor; the start-up is the provider's calibrated overhead,
/// or its default allowance (see estimate_history.hpp).
MachinePlan plan_machines(const Plan& plan, const config::Manifest& manifest,
                          const std::vector<providers::Offer>& ranked, const Calibration& calibration = {});

/// The calibration in the state database at `state_db`: empty (every
/// figure a default) when there is no database yet, which is not created.
Result<Calibration> load_calibration(const std::filesystem::path& state_db);

/// Several lines: instances and their offers, jobs per instance, the
/// estimated cost and how the duration was estimated.
std::string describe_machines(const MachinePlan& machines, const config::Manifest& manifest);
nlohmann::json machines_to_json(const MachinePlan& machines);

}  // namespace ferry::controller
