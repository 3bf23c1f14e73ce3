#include "agent/http/lifetime.hpp"

#include <gtest/gtest.h>

namespace ferry::agent::http {
namespace {

using namespace std::chrono_literals;
const SteadyTime kStart{};

TEST(CheckLifetime, NoLimitsKeepRunning) {
  EXPECT_EQ(check_lifetime({}, kStart + 100h, kStart, kStart, false), LifetimeVerdict::keep_running);
}

TEST(CheckLifetime, IdleTimeoutCountsFromLastActivity) {
  LifetimeLimits limits{10min, std::nullopt};
  EXPECT_EQ(check_lifetime(limits, kStart + 15min, kStart, kStart + 6min, false), LifetimeVerdict::keep_running);
  EXPECT_EQ(check_lifetime(limits, kStart + 16min, kStart, kStart + 6min, false), LifetimeVerdict::idle_timeout);
}

TEST(CheckLifetime, BusyAgentIsNeverIdle) {
  LifetimeLimits limits{10min, std::nullopt};
  EXPECT_EQ(check_lifetime(limits, kStart + 5h, kStart, kStart, true), LifetimeVerdict::keep_running);
  EXPECT_FALSE(idle_deadline(limits, kStart, true));
}

TEST(CheckLifetime, DeadlineWinsEvenWhenBusy) {
  LifetimeLimits limits{10min, 2h};
  EXPECT_EQ(check_lifetime(limits, kStart + 2h, kStart, kStart + 2h, true), LifetimeVerdict::deadline);
  EXPECT_EQ(check_lifetime(limits, kStart + 119min, kStart, kStart + 119min, true), LifetimeVerdict::keep_running);
}

TEST(IdleDeadline, IsLastActivityPlusTimeout) {
  LifetimeLimits limits{10min, std::nullopt};
  EXPECT_EQ(idle_deadline(limits, kStart + 1min, false), kStart + 11min);
  EXPECT_FALSE(idle_deadline({}, kStart, false));
}

}  // namespace
}  // namespace ferry::agent::http
