#include "controller/run_limits.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "config/units.hpp"

namespace ferry::controller {
namespace {

double hours_of(SpendClock::duration duration) {
  return std::chrono::duration<double, std::ratio<3600>>(duration).count();
}

}  // namespace

void SpendMeter::started(const std::string& instance_id, double price_per_hour, SpendClock::time_point when) {
  instances_[instance_id] = Billing{price_per_hour, when, std::nullopt};
}

void SpendMeter::stopped(const std::string& instance_id, SpendClock::time_point when) {
  auto found = instances_.find(instance_id);
  if (found != instances_.end() && !found->second.stopped) found->second.stopped = when;
}

double SpendMeter::spent(SpendClock::time_point now) const {
  double total = 0;
  for (const auto& [id, billing] : instances_) {
    auto end = std::min(billing.stopped.value_or(now), now);
    if (end > billing.started) total += billing.price_per_hour * hours_of(end - billing.started);
  }
  return total;
}

double SpendMeter::live_price_per_hour() const {
  double total = 0;
  for (const auto& [id, billing] : instances_)
    if (!billing.stopped) total += billing.price_per_hour;
  return total;
}

std::optional<Error> limit_reached(double spent, double live_price_per_hour, std::chrono::milliseconds elapsed,
                                   std::optional<double> budget, std::optional<std::chrono::milliseconds> max_duration,
                                   std::chrono::milliseconds margin) {
  if (max_duration && elapsed + margin >= *max_duration)
    return Error{ErrorCode::deadline_exceeded,
                 "max_duration " + config::format_duration(*max_duration) +
                     " reached; stopping the jobs and tearing down. Raise `max_duration` in the manifest to allow "
                     "longer runs",
                 "max_duration"};
  if (budget && spent + live_price_per_hour * hours_of(margin) >= *budget)
    return Error{ErrorCode::resource_exhausted,
                 fmt::format("budget ${:.4f} about to be spent (${:.4f} so far, instances billing ${:.3f}/h); "
                             "stopping the jobs and tearing down. Raise `budget` in the manifest to allow more",
                             *budget, spent, live_price_per_hour),
                 "budget"};
  return std::nullopt;
}

}  // namespace ferry::controller
