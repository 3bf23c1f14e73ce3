#include "controller/cloud_plan.hpp"

#include <algorithm>
#include <functional>
#include <variant>

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

std::vector<providers::Offer> offers_for_instance(const std::vector<providers::Offer>& ranked, std::size_t index) {
  if (ranked.empty() || ranked.front().machine_id.empty()) return ranked;
  std::vector<providers::Offer> rotated;
  rotated.reserve(ranked.size());
  for (std::size_t i = 0; i < ranked.size(); ++i) rotated.push_back(ranked[(index + i) % ranked.size()]);
  return rotated;
}

std::chrono::milliseconds expected_job_time(const config::JobParams& params, std::optional<std::uint64_t> input_bytes) {
  using std::chrono::milliseconds;
  const double megabytes = static_cast<double>(input_bytes.value_or(10'000'000)) / 1e6;
  auto seconds = [](double value) { return milliseconds(static_cast<long long>(value * 1000)); };
  // Rates measured loosely on a mid-range GPU host; they only need to put
  // the estimate in the right range.
  if (std::holds_alternative<config::ConvertParams>(params)) return seconds(1 + megabytes / 10);  // 10 MB/s
  if (const auto* loop = std::get_if<config::LoopParams>(&params))
    return seconds(2 + megabytes / 10 + loop->duration_s / 300);  // 5 min of output per second
  if (const auto* generate = std::get_if<config::GenerateParams>(&params))
    return seconds(10 + generate->duration_s * std::max(1, generate->batch) / 2);
  return seconds(5 + megabytes * 5);  // separate: about 5 s per MB of compressed song
}

std::chrono::milliseconds expected_startup(const std::string& provider) {
  using namespace std::chrono_literals;
  // Create to READY (image pull and boot) plus destroy and confirmation.
  if (provider == "vast") return 5min;
  if (provider == "runpod") return 3min;
  if (provider == "fly") return 1min;
  return 5s;
}

CostEstimate estimate_cost(const std::vector<double>& prices, const std::vector<std::chrono::milliseconds>& job_times,
                           std::chrono::milliseconds startup, const config::Manifest& manifest) {
  CostEstimate estimate;
  const std::size_t instances = std::max<std::size_t>(1, prices.size());
  estimate.jobs_per_instance.assign(instances, 0);
  estimate.instance_time.assign(instances, startup);
  std::vector<std::chrono::milliseconds> longest_first = job_times;
  std::sort(longest_first.begin(), longest_first.end(), std::greater<>());
  for (auto time : longest_first) {
    auto least = std::min_element(estimate.instance_time.begin(), estimate.instance_time.end());
    *least += time;
    ++estimate.jobs_per_instance[static_cast<std::size_t>(least - estimate.instance_time.begin())];
  }
  const auto limit = manifest.max_duration.value_or(kDefaultAgentDeadline);
  for (std::size_t i = 0; i < prices.size(); ++i) {
    estimate.price_per_hour += prices[i];
    estimate.expected += prices[i] * hours_of(std::min(estimate.instance_time[i], limit));
  }
  estimate.at_most = estimate.price_per_hour * hours_of(limit);
  if (manifest.budget && *manifest.budget < estimate.at_most) {
    estimate.at_most = *manifest.budget;
    estimate.capped_by_budget = true;
  }
  estimate.expected = std::min(estimate.expected, estimate.at_most);
  return estimate;
}

}  // namespace ferry::controller
