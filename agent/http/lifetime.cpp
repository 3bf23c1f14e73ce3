#include "agent/http/lifetime.hpp"

namespace ferry::agent::http {

LifetimeVerdict check_lifetime(const LifetimeLimits& limits, SteadyTime now, SteadyTime started,
                               SteadyTime last_activity, bool busy) {
  if (limits.deadline && now - started >= *limits.deadline) return LifetimeVerdict::deadline;
  if (auto idle_end = idle_deadline(limits, last_activity, busy); idle_end && now >= *idle_end)
    return LifetimeVerdict::idle_timeout;
  return LifetimeVerdict::keep_running;
}

std::optional<SteadyTime> idle_deadline(const LifetimeLimits& limits, SteadyTime last_activity, bool busy) {
  if (!limits.idle_timeout || busy) return std::nullopt;
  return last_activity + *limits.idle_timeout;
}

}  // namespace ferry::agent::http
