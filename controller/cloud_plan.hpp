#pragma once
// The pieces of `ferry run` that are the same for every cloud and need no
// socket: which offers to try, what to launch on them, what the run may cost
// and when a limit (budget, max_duration) says to stop. Pure, except
// choose_offers, which asks the provider.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "config/manifest.hpp"
#include "providers/provider.hpp"

namespace ferry::controller {

/// The agent's own guards when the manifest sets none: stop after 10 idle
/// minutes, and in any case after 6 hours, so an abandoned machine stops itself.
inline constexpr std::chrono::milliseconds kDefaultAgentIdleTimeout = std::chrono::minutes(10);
inline constexpr std::chrono::milliseconds kDefaultAgentDeadline = std::chrono::hours(6);

/// Searches and ranks (cheapest first, over `max_price` dropped). No offer is
/// an unavailable error naming the provider and what to change.
Result<std::vector<providers::Offer>> choose_offers(providers::Provider& provider,
                                                    const config::Resources& resources);

/// What every instance of a run is started with: label "ferry:<run-id>",
/// the manifest's image and disk, and in the environment the agent token,
/// FERRY_IDLE_TIMEOUT and FERRY_DEADLINE (max_duration, else the default).
providers::LaunchSpec launch_spec_for(const config::Manifest& manifest, const std::string& run_id,
                                      const std::string& agent_token);

/// What a plan would cost at most, shown by `--dry-run`.
struct CostEstimate {
  double price_per_hour = 0;  ///< all instances together
  double hours = 0;           ///< max_duration (or the agent's default deadline)
  double at_most = 0;         ///< price_per_hour * hours, capped by the budget
  bool capped_by_budget = false;
};
CostEstimate estimate_cost(const providers::Offer& offer, int instances, const config::Manifest& manifest);

/// Why a running run must stop now, or nullopt. Stops one `check_interval`
/// BEFORE the budget or max_duration would be passed, so that teardown
/// happens inside the limit. `elapsed` is since the first instance was
/// created; `price_per_hour` is for all instances together.
std::optional<Error> limit_reached(std::chrono::milliseconds elapsed, double price_per_hour,
                                   std::optional<double> budget, std::optional<std::chrono::milliseconds> max_duration,
                                   std::chrono::milliseconds check_interval);

}  // namespace ferry::controller
