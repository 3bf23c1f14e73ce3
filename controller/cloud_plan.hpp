#pragma once
// The pieces of `ferry run` that are the same for every cloud and need no
// socket: which offers to try, what to launch on them and what the run is
// expected to cost. Pure, except choose_offers, which asks the provider.
// (When budget or max_duration say to stop: run_limits.hpp.)

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

/// Offers for instance number `index` of a run: the ranked list as it is,
/// except where offers are single physical hosts (they carry a machine_id,
/// as Vast's do, and each can be rented once): then instance i starts at the
/// i-th offer so that instances do not race for the same host.
std::vector<providers::Offer> offers_for_instance(const std::vector<providers::Offer>& ranked, std::size_t index);

/// How long one job is expected to take on the agent, for `--dry-run`'s
/// estimate: a fixed start per kind plus a rate on its input's size (or, for
/// loop and generate, on the audio it makes). `input_bytes` nullopt for
/// URLs and awaited files, which count as 10 MB. Rough on purpose: past
/// jobs of the kind scale it (estimate_history.hpp), and the estimate says
/// which it used.
std::chrono::milliseconds expected_job_time(const config::JobParams& params, std::optional<std::uint64_t> input_bytes);

/// The default allowance for creating an instance until its agent is READY
/// (image pull, boot, agent start) and for its teardown, per provider: used
/// until this machine has enough past instances there (estimate_history.hpp).
std::chrono::milliseconds expected_startup(const std::string& provider);

/// What a plan is expected to cost, shown by `--dry-run`.
struct CostEstimate {
  std::vector<int> jobs_per_instance;                    ///< as the jobs are expected to be handed out
  std::vector<std::chrono::milliseconds> instance_time;  ///< start-up + its jobs, per instance
  double price_per_hour = 0;  ///< all instances together
  double expected = 0;        ///< sum over instances of price x instance_time
  double at_most = 0;         ///< every instance for max_duration (or the agent's deadline), capped by the budget
  bool capped_by_budget = false;
};

/// `prices[i]` is instance i's price per hour, `job_times` each job's
/// expected time. Jobs go, longest first, to the instance that frees up
/// first (as `ferry run` hands them out); each instance costs its price for
/// `startup` plus the jobs it gets.
CostEstimate estimate_cost(const std::vector<double>& prices, const std::vector<std::chrono::milliseconds>& job_times,
                           std::chrono::milliseconds startup, const config::Manifest& manifest);

}  // namespace ferry::controller
