#pragma once
// What a run has spent so far and when `budget:` or `max_duration:` says to
// stop. Pure: the caller passes the time, so every rule is unit-tested.

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "common/error.hpp"

namespace ferry::controller {

using SpendClock = std::chrono::steady_clock;

/// The run's instances and what each bills: its offer's price from the
/// moment the provider answered the create until it is confirmed gone.
class SpendMeter {
 public:
  /// `instance_id` started billing at `price_per_hour` at `when`.
  void started(const std::string& instance_id, double price_per_hour, SpendClock::time_point when);
  /// `instance_id` is confirmed gone at `when` (unknown ids are ignored).
  void stopped(const std::string& instance_id, SpendClock::time_point when);
  /// Dollars spent up to `now`, over every instance the run started.
  double spent(SpendClock::time_point now) const;
  /// Dollars per hour of the instances still billing.
  double live_price_per_hour() const;

 private:
  struct Billing {
    double price_per_hour = 0;
    SpendClock::time_point started;
    std::optional<SpendClock::time_point> stopped;
  };
  std::map<std::string, Billing> instances_;
};

/// Why a running run must stop now, or nullopt. `margin` is how far ahead
/// to look: the next check (one poll period) plus the teardown, so that the
/// instances are gone BEFORE the budget or max_duration is passed.
/// `spent` in dollars so far; `live_price_per_hour` of the instances still
/// billing; `elapsed` since the run started.
std::optional<Error> limit_reached(double spent, double live_price_per_hour, std::chrono::milliseconds elapsed,
                                   std::optional<double> budget, std::optional<std::chrono::milliseconds> max_duration,
                                   std::chrono::milliseconds margin);

}  // namespace ferry::controller
