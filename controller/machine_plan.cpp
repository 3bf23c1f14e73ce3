#include "controller/machine_plan.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/units.hpp"
#include "controller/offers.hpp"
#include "controller/state_store.hpp"

namespace ferry::controller {
namespace {

using nlohmann::json;

// Where each figure comes from (past runs or a default) is said next to it.
constexpr const char* kDurationMethod =
    "each instance: the provider's start-up overhead (create, boot, agent ready, transfers, teardown) plus the "
    "jobs it is expected to get, each timed by its kind and its input's size; a guide, not a quote";

json basis_json(EstimateBasis basis, std::size_t samples, std::size_t needed) {
  return {{"source", to_string(basis)}, {"samples", samples}, {"needed", needed}};
}

std::string machine_text(const providers::Offer& offer) {
  if (offer.gpu_name.empty()) return offer.cpu_count > 0 ? fmt::format("{} CPUs", offer.cpu_count) : "CPU";
  return offer.gpu_count > 1 ? fmt::format("{}x {}", offer.gpu_count, offer.gpu_name) : offer.gpu_name;
}

}  // namespace

std::size_t instances_for(const config::Manifest& manifest, const Plan& plan) {
  return std::clamp<std::size_t>(static_cast<std::size_t>(std::max(1, manifest.instances)), 1,
                                 std::max<std::size_t>(1, plan.jobs.size()));
}

MachinePlan plan_machines(const Plan& plan, const config::Manifest& manifest,
                          const std::vector<providers::Offer>& ranked, const Calibration& calibration) {
  MachinePlan machines;
  machines.provider = plan.provider;
  machines.offers_ranked = ranked.size();
  machines.startup = startup_estimate(calibration, plan.provider);
  const std::size_t instances = instances_for(manifest, plan);
  std::vector<double> prices;
  for (std::size_t i = 0; i < instances && !ranked.empty(); ++i) {
    machines.first_offers.push_back(offers_for_instance(ranked, i).front());
    prices.push_back(machines.first_offers.back().price_per_hour);
  }
  std::vector<std::chrono::milliseconds> job_times;
  for (const auto& job : plan.jobs) {
    const auto& scale =
        machines.job_times.try_emplace(job.kind, job_time_estimate(calibration, job.kind)).first->second;
    const auto built_in = expected_job_time(job.params, job.input.size_now());
    job_times.push_back(std::chrono::milliseconds(
        static_cast<std::int64_t>(static_cast<double>(built_in.count()) * scale.factor + 0.5)));
  }
  machines.estimate = estimate_cost(prices, job_times, machines.startup.per_instance, manifest);
  return machines;
}

Result<Calibration> load_calibration(const std::filesystem::path& state_db) {
  std::error_code error;
  // A dry run on a fresh machine leaves nothing behind.
  if (!std::filesystem::exists(state_db, error)) return Calibration{};
  auto store = StateStore::open(state_db);
  if (!store) return fail(store.error());
  const CalibrationLimits limits;
  auto instances = store->past_instances(static_cast<int>(limits.instances_per_provider));
  if (!instances) return fail(instances.error());
  auto jobs = store->past_jobs(static_cast<int>(limits.jobs_per_kind));
  if (!jobs) return fail(jobs.error());
  return calibrate(*instances, *jobs, limits);
}

std::string describe_machines(const MachinePlan& machines, const config::Manifest& manifest) {
  const auto& estimate = machines.estimate;
  std::string text = fmt::format("Machines: {} instance{} on {}\n", machines.first_offers.size(),
                                 machines.first_offers.size() == 1 ? "" : "s", machines.provider);
  for (std::size_t i = 0; i < machines.first_offers.size(); ++i) {
    const auto& offer = machines.first_offers[i];
    text += fmt::format("  instance {}: offer {} ({}, ${:.3f}/h), about {} job{}, expected {}\n", i + 1, offer.id,
                        machine_text(offer), offer.price_per_hour, estimate.jobs_per_instance[i],
                        estimate.jobs_per_instance[i] == 1 ? "" : "s",
                        config::format_duration(std::chrono::duration_cast<std::chrono::seconds>(
                            estimate.instance_time[i])));
  }
  if (machines.offers_ranked > 1)
    text += fmt::format("  an offer that fails to start is replaced by the next of {} ranked offers\n",
                        machines.offers_ranked);
  text += fmt::format("Estimated cost: ${:.4f} (${:.3f}/h in all)", estimate.expected, estimate.price_per_hour);
  std::string limit = manifest.max_duration ? "max_duration " + config::format_duration(*manifest.max_duration)
                                            : "the agent's own deadline of " +
                                                  config::format_duration(kDefaultAgentDeadline);
  text += fmt::format("; at most ${:.2f} if every instance ran until {}{}\n", estimate.at_most, limit,
                      estimate.capped_by_budget ? fmt::format(" (capped by the budget ${:.2f})", *manifest.budget)
                                                : std::string());
  text += fmt::format("  duration: {}\n", kDurationMethod);
  text += fmt::format("  {}\n", describe_startup(machines.startup, machines.provider));
  std::string kinds;
  for (const auto& [kind, scale] : machines.job_times)
    kinds += (kinds.empty() ? "" : "; ") + describe_job_time(scale, kind);
  if (!kinds.empty()) text += fmt::format("  job times: {}\n", kinds);
  return text;
}

json machines_to_json(const MachinePlan& machines) {
  const auto& estimate = machines.estimate;
  json instances = json::array();
  json job_times = json::object();
  for (const auto& [kind, scale] : machines.job_times) {
    job_times[kind] = basis_json(scale.basis, scale.samples, scale.needed);
    job_times[kind]["factor"] = scale.factor;
  }
  for (std::size_t i = 0; i < machines.first_offers.size(); ++i) {
    instances.push_back({{"offer", offers_to_json({machines.first_offers[i]})[0]},
                         {"jobs", estimate.jobs_per_instance[i]},
                         {"expected_seconds", estimate.instance_time[i].count() / 1000.0}});
  }
  return {{"provider", machines.provider},
          {"instances", instances},
          {"offers_ranked", machines.offers_ranked},
          {"estimate",
           {{"price_per_hour", estimate.price_per_hour},
            {"expected_cost", estimate.expected},
            {"at_most", estimate.at_most},
            {"capped_by_budget", estimate.capped_by_budget},
            {"startup_seconds", static_cast<double>(machines.startup.per_instance.count()) / 1000.0},
            {"startup_basis", basis_json(machines.startup.basis, machines.startup.samples, machines.startup.needed)},
            {"job_times", job_times},
            {"duration_method", kDurationMethod}}}};
}

}  // namespace ferry::controller
