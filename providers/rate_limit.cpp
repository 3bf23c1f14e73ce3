#include "providers/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace ferry::providers {

std::chrono::milliseconds TokenBuckets::reserve(const std::string& key, double per_second, double burst,
                                                Clock::time_point now) {
  auto [found, inserted] = buckets_.try_emplace(key, Bucket{burst, now});
  Bucket& bucket = found->second;
  if (!inserted) {
    double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    bucket.tokens = std::min(burst, bucket.tokens + std::max(0.0, elapsed) * per_second);
    bucket.updated = std::max(bucket.updated, now);
  }
  bucket.tokens -= 1;  // may go negative: later callers queue behind this one
  if (bucket.tokens >= 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(-bucket.tokens / per_second * 1000)));
}

}  // namespace ferry::providers
