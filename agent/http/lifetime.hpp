#pragma once
// When the agent stops on its own: after FERRY_IDLE_TIMEOUT without jobs or
// requests, or at FERRY_DEADLINE after its start, whatever it is doing. These
// are the agent's own guard against a rented machine billing forever when
// the controller is gone.

#include <chrono>
#include <optional>

namespace ferry::agent::http {

/// Exit status of `ferry-agent serve` when it stops at its hard deadline
/// (an idle stop or a signal exits 0; start-up failures exit 1).
inline constexpr int kExitDeadlineReached = 3;

struct LifetimeLimits {
  std::optional<std::chrono::milliseconds> idle_timeout;
  std::optional<std::chrono::milliseconds> deadline;  ///< since start
};

enum class LifetimeVerdict { keep_running, idle_timeout, deadline };

using SteadyTime = std::chrono::steady_clock::time_point;

/// The deadline wins over idleness; idle means no queued or running job and
/// no request since `idle_timeout`.
LifetimeVerdict check_lifetime(const LifetimeLimits& limits, SteadyTime now, SteadyTime started,
                               SteadyTime last_activity, bool busy);

/// When the idle timeout would stop the agent if nothing happens from now
/// on; nullopt while busy or without an idle timeout.
std::optional<SteadyTime> idle_deadline(const LifetimeLimits& limits, SteadyTime last_activity, bool busy);

}  // namespace ferry::agent::http
