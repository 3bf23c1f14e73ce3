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

TEST(CloudPlan, CostEstimateSpreadsJobsLongestFirstAndPricesEachInstance) {
  config::Manifest manifest;
  manifest.max_duration = 2h;
  // Two instances at $1/h and $2/h, 10 min start-up; jobs of 30, 20 and 20 min.
  auto estimate = estimate_cost({1.0, 2.0}, {20min, 30min, 20min}, 10min, manifest);
  ASSERT_EQ(estimate.jobs_per_instance.size(), 2u);
  // 30 -> instance 1 (40 min), 20 -> instance 2 (30 min), 20 -> instance 2 (50 min).
  EXPECT_EQ(estimate.jobs_per_instance[0], 1);
  EXPECT_EQ(estimate.jobs_per_instance[1], 2);
  EXPECT_EQ(estimate.instance_time[0], 40min);
  EXPECT_EQ(estimate.instance_time[1], 50min);
  EXPECT_DOUBLE_EQ(estimate.price_per_hour, 3.0);
  EXPECT_NEAR(estimate.expected, 1.0 * 40 / 60 + 2.0 * 50 / 60, 1e-9);
  EXPECT_DOUBLE_EQ(estimate.at_most, 6.0);
  EXPECT_FALSE(estimate.capped_by_budget);
}

TEST(CloudPlan, CostEstimateIsBoundedByMaxDurationAndBudget) {
  config::Manifest manifest;
  manifest.max_duration = 1h;
  auto long_run = estimate_cost({0.5, 0.5}, {5h, 5h}, 0min, manifest);
  EXPECT_DOUBLE_EQ(long_run.expected, 1.0) << "no instance runs past max_duration";
  manifest.budget = 0.75;
  long_run = estimate_cost({0.5, 0.5}, {5h, 5h}, 0min, manifest);
  EXPECT_DOUBLE_EQ(long_run.at_most, 0.75);
  EXPECT_TRUE(long_run.capped_by_budget);
  EXPECT_DOUBLE_EQ(long_run.expected, 0.75);
}

TEST(CloudPlan, ExpectedJobTimeGrowsWithTheInputAndTheAudioMade) {
  config::ConvertParams convert;
  EXPECT_LT(expected_job_time(convert, 1'000'000), expected_job_time(convert, 100'000'000));
  EXPECT_EQ(expected_job_time(convert, std::nullopt), expected_job_time(convert, 10'000'000))
      << "an input of unknown size counts as 10 MB";
  config::LoopParams short_loop, long_loop;
  short_loop.duration_s = 60;
  long_loop.duration_s = 36000;
  EXPECT_LT(expected_job_time(short_loop, 1'000'000), expected_job_time(long_loop, 1'000'000));
  EXPECT_GT(expected_startup("vast"), expected_startup("local"));
}

TEST(CloudPlan, InstancesStartOnDifferentHostsWhenOffersAreSingleMachines) {
  std::vector<providers::Offer> hosts{priced("a", 0.1), priced("b", 0.2), priced("c", 0.3)};
  for (std::size_t i = 0; i < hosts.size(); ++i) hosts[i].machine_id = std::to_string(i);
  EXPECT_EQ(offers_for_instance(hosts, 0).front().id, "a");
  EXPECT_EQ(offers_for_instance(hosts, 1).front().id, "b");
  auto third = offers_for_instance(hosts, 2);
  ASSERT_EQ(third.size(), 3u) << "every offer stays a fallback";
  EXPECT_EQ(third[0].id, "c");
  EXPECT_EQ(third[1].id, "a");
  EXPECT_EQ(offers_for_instance(hosts, 4).front().id, "b") << "more instances than hosts wrap around";

  std::vector<providers::Offer> types{priced("gpu-x", 0.1), priced("gpu-y", 0.2)};
  EXPECT_EQ(offers_for_instance(types, 1).front().id, "gpu-x") << "a GPU type can be rented many times";
}

}  // namespace
}  // namespace ferry::controller
