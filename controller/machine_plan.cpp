#include "controller/machine_plan.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/units.hpp"
#include "controller/offers.hpp"

namespace ferry::controller {
namespace {

using nlohmann::json;

constexpr const char* kDurationMethod =
    "each instance: a start-up allowance for the provider (create, boot, agent ready, teardown) plus the jobs it "
    "is expected to get, each timed by its kind and its input's size; a rough guide, not a quote";

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
                          const std::vector<providers::Offer>& ranked) {
  MachinePlan machines;
  machines.provider = plan.provider;
  machines.offers_ranked = ranked.size();
  machines.startup = expected_startup(plan.provider);
  const std::size_t instances = instances_for(manifest, plan);
  std::vector<double> prices;
  for (std::size_t i = 0; i < instances && !ranked.empty(); ++i) {
    machines.first_offers.push_back(offers_for_instance(ranked, i).front());
    prices.push_back(machines.first_offers.back().price_per_hour);
  }
  std::vector<std::chrono::milliseconds> job_times;
  for (const auto& job : plan.jobs) {
    std::optional<std::uint64_t> bytes;
    if (job.input.generated) {
      bytes = 0;
    } else if (!job.input.is_url && !job.input.from_earlier_entry) {
      std::error_code error;
      auto size = std::filesystem::file_size(job.input.file, error);
      if (!error) bytes = size;
    }
    job_times.push_back(expected_job_time(job.params, bytes));
  }
  machines.estimate = estimate_cost(prices, job_times, machines.startup, manifest);
  return machines;
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
  text += fmt::format("  duration: {} ({} start-up on {})\n", kDurationMethod,
                      config::format_duration(machines.startup), machines.provider);
  return text;
}

json machines_to_json(const MachinePlan& machines) {
  const auto& estimate = machines.estimate;
  json instances = json::array();
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
            {"startup_seconds", machines.startup.count() / 1000.0},
            {"duration_method", kDurationMethod}}}};
}

}  // namespace ferry::controller
