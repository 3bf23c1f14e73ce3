// Offers chosen, launch specs, cost estimates and limits for cloud runs.

#include <gtest/gtest.h>

#include "controller/cloud_plan.hpp"

namespace ferry::controller {
namespace {

using namespace std::chrono_literals;

// A provider whose search answers a fixed list; every other call is unused here.
class FixedOffers final : public providers::Provider {
 public:
  explicit FixedOffers(std::vector<providers::Offer> offers) : offers_(std::move(offers)) {}
  std::string name() const override { return "vast"; }
  Result<std::vector<providers::Offer>> search(const config::Resources&) override { return offers_; }
  Result<std::string> create(const providers::Offer&, const providers::LaunchSpec&) override {
    return fail(ErrorCode::internal, "unused");
  }
  Result<providers::InstanceInfo> get(const std::string&) override { return fail(ErrorCode::internal, "unused"); }
  Status destroy(const std::string&) override { return fail(ErrorCode::internal, "unused"); }
  Result<std::vector<providers::InstanceInfo>> list(const std::string&) override {
    return fail(ErrorCode::internal, "unused");
  }

 private:
  std::vector<providers::Offer> offers_;
};

providers::Offer priced(std::string id, double price) {
  providers::Offer offer;
  offer.id = std::move(id);
  offer.price_per_hour = price;
  return offer;
}

TEST(CloudPlan, ChoosesOffersCheapestFirstUnderMaxPrice) {
  FixedOffers provider({priced("a", 0.9), priced("b", 0.3), priced("c", 0.5)});
  config::Resources resources;
  resources.max_price_per_hour = 0.6;
  auto offers = choose_offers(provider, resources);
  ASSERT_TRUE(offers);
  ASSERT_EQ(offers->size(), 2u);
  EXPECT_EQ((*offers)[0].id, "b");
  EXPECT_EQ((*offers)[1].id, "c");
}

TEST(CloudPlan, AllOffersTooExpensiveSaysSoAndWhatToRaise) {
  FixedOffers provider({priced("a", 0.9)});
  config::Resources resources;
  resources.max_price_per_hour = 0.5;
  auto offers = choose_offers(provider, resources);
  ASSERT_FALSE(offers);
  EXPECT_EQ(offers.error().code, ErrorCode::unavailable);
  EXPECT_NE(offers.error().message.find("vast"), std::string::npos);
  EXPECT_NE(offers.error().message.find("max_price"), std::string::npos) << offers.error().message;
}

TEST(CloudPlan, LaunchSpecCarriesTokenLabelAndTheAgentsOwnGuards) {
  config::Manifest manifest;
  manifest.image = "ghcr.io/o/ferry-agent:cuda";
  manifest.idle_timeout = 5min;
  manifest.max_duration = 2h;
  auto launch = launch_spec_for(manifest, "run-1", "secret");
  EXPECT_EQ(launch.label, "ferry:run-1");
  EXPECT_EQ(launch.image, "ghcr.io/o/ferry-agent:cuda");
  EXPECT_EQ(launch.env.at("FERRY_AGENT_TOKEN"), "secret");
  EXPECT_EQ(launch.env.at("FERRY_IDLE_TIMEOUT"), config::format_duration(5min));
  EXPECT_EQ(launch.env.at("FERRY_DEADLINE"), config::format_duration(2h));

  auto defaults = launch_spec_for(config::Manifest{}, "run-2", "t");
  EXPECT_EQ(defaults.env.at("FERRY_DEADLINE"), config::format_duration(kDefaultAgentDeadline))
      << "an abandoned machine always stops itself";
}

TEST(CloudPlan, CostEstimateIsBoundedByMaxDurationAndBudget) {
  config::Manifest manifest;
  manifest.max_duration = 2h;
  auto estimate = estimate_cost(priced("a", 0.5), 2, manifest);
  EXPECT_DOUBLE_EQ(estimate.price_per_hour, 1.0);
  EXPECT_DOUBLE_EQ(estimate.hours, 2.0);
  EXPECT_DOUBLE_EQ(estimate.at_most, 2.0);
  EXPECT_FALSE(estimate.capped_by_budget);
  manifest.budget = 1.5;
  estimate = estimate_cost(priced("a", 0.5), 2, manifest);
  EXPECT_DOUBLE_EQ(estimate.at_most, 1.5);
  EXPECT_TRUE(estimate.capped_by_budget);
}

TEST(CloudPlan, LimitsStopOneCheckBeforeTheyArePassed) {
  // $1/h, budget $1: at 58 min with a 1-minute check, the next check would be at 59 min: go on.
  EXPECT_FALSE(limit_reached(58min, 1.0, 1.0, std::nullopt, 1min));
  auto budget = limit_reached(59min, 1.0, 1.0, std::nullopt, 1min);
  ASSERT_TRUE(budget);
  EXPECT_EQ(budget->code, ErrorCode::resource_exhausted);
  EXPECT_EQ(budget->field, "budget");

  EXPECT_FALSE(limit_reached(28min, 0.0, std::nullopt, 30min, 1min));
  auto deadline = limit_reached(29min, 0.0, std::nullopt, 30min, 1min);
  ASSERT_TRUE(deadline);
  EXPECT_EQ(deadline->code, ErrorCode::deadline_exceeded);
  EXPECT_NE(deadline->message.find("max_duration"), std::string::npos);

  EXPECT_FALSE(limit_reached(100h, 0.5, std::nullopt, std::nullopt, 1min)) << "no limits, no stop";
}

}  // namespace
}  // namespace ferry::controller
