// Spend so far and the budget / max_duration stops, with a fake clock.

#include <gtest/gtest.h>

#include "controller/run_limits.hpp"
#include "controller/run_settings.hpp"

namespace ferry::controller {
namespace {

using namespace std::chrono_literals;

TEST(SpendMeter, BillsEachInstanceFromCreateUntilGone) {
  SpendMeter meter;
  const SpendClock::time_point t0{};
  meter.started("a", 1.0, t0);
  meter.started("b", 2.0, t0 + 30min);
  EXPECT_DOUBLE_EQ(meter.live_price_per_hour(), 3.0);
  meter.stopped("a", t0 + 1h);
  EXPECT_DOUBLE_EQ(meter.live_price_per_hour(), 2.0);
  // a: 1 h at $1; b: 1.5 h at $2.
  EXPECT_DOUBLE_EQ(meter.spent(t0 + 2h), 1.0 + 3.0);
  meter.stopped("a", t0 + 3h);
  EXPECT_DOUBLE_EQ(meter.spent(t0 + 2h), 4.0) << "a second stop does not move the first";
  meter.stopped("unknown", t0 + 2h);
  EXPECT_DOUBLE_EQ(meter.spent(t0), 0.0) << "nothing spent yet at the start";
}

TEST(RunLimits, BudgetStopsWhileTheNextCheckAndTheTeardownStillFit) {
  // $0.90 spent, $6/h billing: the next minute costs $0.10.
  EXPECT_FALSE(limit_reached(0.89, 6.0, 10min, 1.0, std::nullopt, 1min));
  auto stop = limit_reached(0.90, 6.0, 10min, 1.0, std::nullopt, 1min);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->code, ErrorCode::resource_exhausted);
  EXPECT_EQ(stop->field, "budget");
  EXPECT_NE(stop->message.find("Raise `budget`"), std::string::npos) << stop->message;
}

TEST(RunLimits, MaxDurationStopsOneMarginEarly) {
  EXPECT_FALSE(limit_reached(0, 0, 28min, std::nullopt, 30min, 1min));
  auto stop = limit_reached(0, 0, 29min, std::nullopt, 30min, 1min);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->code, ErrorCode::deadline_exceeded);
  EXPECT_NE(stop->message.find("max_duration 30m"), std::string::npos) << stop->message;
  EXPECT_FALSE(limit_reached(1000, 50, 100h, std::nullopt, std::nullopt, 1min)) << "no limits, no stop";
}

TEST(RunSettings, DefaultsPerProviderAndOverridesFromTheEnvironment) {
  auto none = [](const char*) { return std::optional<std::string>(); };
  auto cloud = run_settings_for("vast", none);
  auto local = run_settings_for("local", none);
  ASSERT_TRUE(cloud && local);
  EXPECT_LT(local->poll_interval, cloud->poll_interval);
  EXPECT_LT(local->deadlines.resolve, cloud->deadlines.resolve);

  auto tuned = run_settings_for("vast", [](const char* name) -> std::optional<std::string> {
    if (std::string(name) == "FERRY_POLL_INTERVAL") return "50ms";
    if (std::string(name) == "FERRY_START_TIMEOUT") return "1500ms";
    if (std::string(name) == "FERRY_DESTROY_TIMEOUT") return "3s";
    return std::nullopt;
  });
  ASSERT_TRUE(tuned) << tuned.error().message;
  EXPECT_EQ(tuned->poll_interval, 50ms);
  EXPECT_EQ(tuned->deadlines.resolve, 2s) << "rounded up to whole seconds";
  EXPECT_EQ(tuned->deadlines.ready, 2s);
  EXPECT_EQ(tuned->deadlines.destroy, 3s);
  EXPECT_EQ(tuned->deadlines.confirm_gone, 3s);
}

TEST(RunSettings, ABadValueNamesTheVariable) {
  auto bad = run_settings_for("fly", [](const char* name) -> std::optional<std::string> {
    if (std::string(name) == "FERRY_START_TIMEOUT") return "soon";
    return std::nullopt;
  });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(bad.error().message.find("FERRY_START_TIMEOUT"), std::string::npos) << bad.error().message;
  auto zero = run_settings_for("fly", [](const char*) -> std::optional<std::string> { return "0s"; });
  EXPECT_FALSE(zero);
}

}  // namespace
}  // namespace ferry::controller
