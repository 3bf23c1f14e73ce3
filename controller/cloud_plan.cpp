#include "controller/cloud_plan.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "config/units.hpp"
#include "providers/ranking.hpp"

namespace ferry::controller {
namespace {

double hours_of(std::chrono::milliseconds duration) {
  return std::chrono::duration<double, std::ratio<3600>>(duration).count();
}

}  // namespace

Result<std::vector<providers::Offer>> choose_offers(providers::Provider& provider,
                                                    const config::Resources& resources) {
  auto offers = provider.search(resources);
  if (!offers) return fail(offers.error());
  const std::size_t found = offers->size();
  auto ranked = providers::rank_offers(std::move(*offers), resources.max_price_per_hour);
  if (ranked.empty()) {
    std::string why = found == 0 ? "no offer matches the manifest's `resources`"
                                 : fmt::format("{} offer(s) match but all cost more than max_price ${:.2f}/h", found,
                                               resources.max_price_per_hour.value_or(0));
    return fail(ErrorCode::unavailable,
                provider.name() + ": search offers: " + why +
                    "; widen `resources`, raise `max_price`, or see `ferry offers --provider " + provider.name() + "`",
                "resources");
  }
  return ranked;
}

providers::LaunchSpec launch_spec_for(const config::Manifest& manifest, const std::string& run_id,
                                      const std::string& agent_token) {
  providers::LaunchSpec launch;
  launch.image = manifest.image;
  launch.label = "ferry:" + run_id;
  launch.disk_bytes = manifest.resources.disk_bytes;
  launch.env["FERRY_AGENT_TOKEN"] = agent_token;
  launch.env["FERRY_IDLE_TIMEOUT"] = config::format_duration(manifest.idle_timeout.value_or(kDefaultAgentIdleTimeout));
  launch.env["FERRY_DEADLINE"] = config::format_duration(manifest.max_duration.value_or(kDefaultAgentDeadline));
  return launch;
}

CostEstimate estimate_cost(const providers::Offer& offer, int instances, const config::Manifest& manifest) {
  CostEstimate estimate;
  estimate.price_per_hour = offer.price_per_hour * std::max(1, instances);
  estimate.hours = hours_of(manifest.max_duration.value_or(kDefaultAgentDeadline));
  estimate.at_most = estimate.price_per_hour * estimate.hours;
  if (manifest.budget && *manifest.budget < estimate.at_most) {
    estimate.at_most = *manifest.budget;
    estimate.capped_by_budget = true;
  }
  return estimate;
}

std::optional<Error> limit_reached(std::chrono::milliseconds elapsed, double price_per_hour,
                                   std::optional<double> budget, std::optional<std::chrono::milliseconds> max_duration,
                                   std::chrono::milliseconds check_interval) {
  const auto by_next_check = elapsed + check_interval;
  if (max_duration && by_next_check >= *max_duration)
    return Error{ErrorCode::deadline_exceeded,
                 "max_duration " + config::format_duration(*max_duration) +
                     " reached; tearing down. Raise `max_duration` in the manifest to allow longer runs",
                 "max_duration"};
  if (budget && price_per_hour * hours_of(by_next_check) >= *budget)
    return Error{ErrorCode::resource_exhausted,
                 fmt::format("budget ${:.2f} about to be spent (${:.2f}/h for {}); tearing down. Raise `budget` in "
                             "the manifest to allow more",
                             *budget, price_per_hour, config::format_duration(elapsed)),
                 "budget"};
  return std::nullopt;
}

}  // namespace ferry::controller
