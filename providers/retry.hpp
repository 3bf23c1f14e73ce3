#pragma once
// When to repeat a provider API call and how long to wait first. Pure: the
// transport feeds it the answer's status and Retry-After header and sleeps.

#include <chrono>
#include <optional>
#include <string_view>

namespace ferry::providers {

struct RetryPolicy {
  int max_attempts = 5;                           ///< including the first
  std::chrono::milliseconds base_delay{500};      ///< first backoff step
  std::chrono::milliseconds max_delay{20000};     ///< longest single wait we accept
  double multiplier = 2.0;
};

/// Seconds from a Retry-After value: delta-seconds ("12") or an HTTP date
/// ("Wed, 21 Oct 2015 07:28:00 GMT") relative to `now`. nullopt when absent
/// or unreadable; a date in the past is zero.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

/// How long to wait before attempt `attempts_made + 1`, or nullopt to stop.
/// `status` 0 means the exchange itself failed (connection refused, timeout).
/// 429 is always safe to repeat (the server refused before acting); 5xx,
/// 408 and transport failures only when the request is `idempotent`, since a
/// create that timed out may have happened. A Retry-After longer than
/// `max_delay` stops (the caller reports it rather than hanging). Without
/// Retry-After the wait grows exponentially; `jitter` in [0, 1) spreads it by
/// up to a quarter so that clients do not retry in lockstep.
std::optional<std::chrono::milliseconds> retry_delay(const RetryPolicy& policy, int status,
                                                     std::optional<std::chrono::milliseconds> retry_after,
                                                     bool idempotent, int attempts_made, double jitter);

}  // namespace ferry::providers
