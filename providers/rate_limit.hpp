#pragma once
// Client-side token buckets, for providers that document their limits
// (Fly: 1 request/s per action and machine with a burst of 3). Pure: the
// caller passes the time and sleeps for the wait it gets back.

#include <chrono>
#include <map>
#include <string>

namespace ferry::providers {

class TokenBuckets {
 public:
  using Clock = std::chrono::steady_clock;

  /// Takes one token from the bucket `key` (created full on first use) and
  /// returns how long to wait before sending; zero when a token was free.
  std::chrono::milliseconds reserve(const std::string& key, double per_second, double burst, Clock::time_point now);

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
  };
  std::map<std::string, Bucket> buckets_;
};

}  // namespace ferry::providers
