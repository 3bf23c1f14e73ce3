#pragma once
// The machine side of a run's plan: how many instances, which offer each
// starts on, how the jobs are expected to spread over them and what that is
// expected to cost. Shown by `ferry run --dry-run` (and before a cloud run).

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "config/manifest.hpp"
#include "controller/cloud_plan.hpp"
#include "controller/plan.hpp"
#include "providers/provider.hpp"

namespace ferry::controller {

struct MachinePlan {
  std::string provider;
  /// The offer each instance tries first (see offers_for_instance).
  std::vector<providers::Offer> first_offers;
  std::size_t offers_ranked = 0;  ///< fallbacks when a first offer fails
  std::chrono::milliseconds startup{0};
  CostEstimate estimate;
};

/// The number of instances a run starts: the manifest's `instances`, but
/// never more than there are jobs.
std::size_t instances_for(const config::Manifest& manifest, const Plan& plan);

/// Plans the machines for `plan` on the ranked offers. Job times come from
/// expected_job_time with the local inputs' sizes.
MachinePlan plan_machines(const Plan& plan, const config::Manifest& manifest,
                          const std::vector<providers::Offer>& ranked);

/// Several lines: instances and their offers, jobs per instance, the
/// estimated cost and how the duration was estimated.
std::string describe_machines(const MachinePlan& machines, const config::Manifest& manifest);
nlohmann::json machines_to_json(const MachinePlan& machines);

}  // namespace ferry::controller
