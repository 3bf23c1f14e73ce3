#include "providers/retry.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <string>

namespace ferry::providers {

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.remove_prefix(1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (value.size() > 9) return std::nullopt;  // absurd; treat as unreadable
    return std::chrono::milliseconds(std::stoll(std::string(value)) * 1000);
  }
  std::tm parts{};
  std::string text(value);
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  if (!end || *end != '\0') return std::nullopt;
  auto when = std::chrono::system_clock::from_time_t(::timegm(&parts));
  if (when <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
}

std::optional<std::chrono::milliseconds> retry_delay(const RetryPolicy& policy, int status,
                                                     std::optional<std::chrono::milliseconds> retry_after,
                                                     bool idempotent, int attempts_made, double jitter) {
  if (attempts_made >= policy.max_attempts) return std::nullopt;
  bool rate_limited = status == 429;
  bool transient = status == 0 || status == 408 || status == 500 || status == 502 || status == 503 || status == 504;
  if (!rate_limited && !(transient && idempotent)) return std::nullopt;
  if (retry_after) {
    if (*retry_after > policy.max_delay) return std::nullopt;
    return *retry_after;
  }
  double steps = std::pow(policy.multiplier, std::max(0, attempts_made - 1));
  double millis = static_cast<double>(policy.base_delay.count()) * steps;
  millis *= 1.0 + 0.25 * std::clamp(jitter, 0.0, 1.0);
  millis = std::min(millis, static_cast<double>(policy.max_delay.count()));
  return std::chrono::milliseconds(static_cast<std::int64_t>(millis));
}

}  // namespace ferry::providers
