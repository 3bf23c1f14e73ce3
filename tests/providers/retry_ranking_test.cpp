#include <gtest/gtest.h>

#include "providers/api.hpp"
#include "providers/rate_limit.hpp"
#include "providers/ranking.hpp"
#include "providers/retry.hpp"

namespace ferry::providers {
namespace {

using std::chrono::milliseconds;

TEST(RetryAfter, ReadsSecondsAndHttpDates) {
  auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(parse_retry_after("12", now), milliseconds(12000));
  EXPECT_EQ(parse_retry_after(" 0 ", now), milliseconds(0));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), milliseconds(30000));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), milliseconds(0));
  EXPECT_FALSE(parse_retry_after("", now));
  EXPECT_FALSE(parse_retry_after("soon", now));
  EXPECT_FALSE(parse_retry_after("-5", now));
}

TEST(RetryDelay, RateLimitWithoutRetryAfterBacksOffExponentially) {
  RetryPolicy policy{5, milliseconds(100), milliseconds(10000), 2.0};
  EXPECT_EQ(retry_delay(policy, 429, std::nullopt, false, 1, 0), milliseconds(100));
  EXPECT_EQ(retry_delay(policy, 429, std::nullopt, false, 2, 0), milliseconds(200));
  EXPECT_EQ(retry_delay(policy, 429, std::nullopt, false, 3, 0), milliseconds(400));
  EXPECT_EQ(retry_delay(policy, 429, std::nullopt, false, 3, 0.999).value().count(), 499);
  EXPECT_FALSE(retry_delay(policy, 429, std::nullopt, false, 5, 0));
}

TEST(RetryDelay, HonoursRetryAfterButNotBeyondTheLongestWait) {
  RetryPolicy policy{5, milliseconds(100), milliseconds(10000), 2.0};
  EXPECT_EQ(retry_delay(policy, 429, milliseconds(3000), false, 1, 0.5), milliseconds(3000));
  EXPECT_FALSE(retry_delay(policy, 429, milliseconds(60000), false, 1, 0));
}

TEST(RetryDelay, ServerErrorsRepeatOnlyIdempotentCalls) {
  RetryPolicy policy{3, milliseconds(100), milliseconds(1000), 2.0};
  EXPECT_TRUE(retry_delay(policy, 503, std::nullopt, true, 1, 0));
  EXPECT_TRUE(retry_delay(policy, 0, std::nullopt, true, 1, 0));
  EXPECT_FALSE(retry_delay(policy, 503, std::nullopt, false, 1, 0));
  EXPECT_FALSE(retry_delay(policy, 0, std::nullopt, false, 1, 0));
  EXPECT_FALSE(retry_delay(policy, 400, std::nullopt, true, 1, 0));
  EXPECT_FALSE(retry_delay(policy, 404, std::nullopt, true, 1, 0));
  EXPECT_EQ(retry_delay(policy, 500, std::nullopt, true, 2, 0), milliseconds(200));
  EXPECT_EQ(retry_delay({9, milliseconds(100), milliseconds(1000), 2.0}, 500, std::nullopt, true, 8, 0),
            milliseconds(1000));
}

TEST(TokenBuckets, BurstIsFreeThenOnePerSecond) {
  TokenBuckets buckets;
  auto start = TokenBuckets::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(buckets.reserve("create m1", 1, 3, start), milliseconds(0));
  EXPECT_EQ(buckets.reserve("create m1", 1, 3, start), milliseconds(1000));
  EXPECT_EQ(buckets.reserve("create m2", 1, 3, start), milliseconds(0));
  EXPECT_EQ(buckets.reserve("create m1", 1, 3, start + std::chrono::seconds(5)), milliseconds(0));
}

Offer offer(std::string id, double price, double reliability = 1, std::uint64_t memory = 0) {
  Offer made;
  made.id = std::move(id);
  made.price_per_hour = price;
  made.reliability = reliability;
  made.gpu_memory_bytes = memory;
  return made;
}

TEST(RankOffers, CheapestFirstThenMostReliableAndDropsTooExpensive) {
  auto ranked = rank_offers({offer("a", 0.5), offer("b", 0.3, 0.9), offer("c", 0.3, 0.99), offer("d", 0.9)}, 0.6);
  ASSERT_EQ(ranked.size(), 3u);
  EXPECT_EQ(ranked[0].id, "c");
  EXPECT_EQ(ranked[1].id, "b");
  EXPECT_EQ(ranked[2].id, "a");
}

TEST(GpuNames, ManifestSpellingsMatchProviderNames) {
  EXPECT_TRUE(gpu_name_matches("RTX_4090", "RTX 4090"));
  EXPECT_TRUE(gpu_name_matches("rtx 4090", "NVIDIA GeForce RTX 4090"));
  EXPECT_TRUE(gpu_name_matches("A100", "NVIDIA A100-SXM4-80GB"));
  EXPECT_TRUE(gpu_name_matches("a100", "A100 SXM4"));
  EXPECT_FALSE(gpu_name_matches("A10", "A100 SXM4"));
  EXPECT_FALSE(gpu_name_matches("4090", "RTX 3090"));
  EXPECT_FALSE(gpu_name_matches("", "RTX 3090"));
  EXPECT_TRUE(any_gpu_name_matches({}, "anything"));
}

TEST(Urls, QueryValuesArePercentEncodedAndTemplatesFilled) {
  ApiRequest request;
  request.path = "/api/v1/instances/";
  request.query = {{"select_filters", R"({"label":{"eq":"ferry:x"}})"}, {"limit", "25"}};
  EXPECT_EQ(build_url("https://console.vast.ai/", request),
            "https://console.vast.ai/api/v1/instances/"
            "?select_filters=%7B%22label%22%3A%7B%22eq%22%3A%22ferry%3Ax%22%7D%7D&limit=25");
  EXPECT_EQ(fill_template("https://{pod_id}-{port}.proxy.runpod.net", {{"pod_id", "abc"}, {"port", "8185"}}),
            "https://abc-8185.proxy.runpod.net");
  EXPECT_EQ(fill_template("https://{app}.fly.dev/{other}", {{"app", "ferry-x"}}), "https://ferry-x.fly.dev/{other}");
}

TEST(HttpErrors, AuthErrorsSayWhichVariableToSet) {
  Error error = http_error("vast", "get instance 5", 401, "Invalid user key", "VAST_API_KEY");
  EXPECT_EQ(error.code, ErrorCode::unauthenticated);
  EXPECT_NE(error.message.find("vast: get instance 5: HTTP 401"), std::string::npos);
  EXPECT_NE(error.message.find("VAST_API_KEY"), std::string::npos);
  EXPECT_EQ(http_error("runpod", "x", 503, "", "RUNPOD_API_KEY").code, ErrorCode::unavailable);
  EXPECT_EQ(http_error("runpod", "x", 402, "", "RUNPOD_API_KEY").code, ErrorCode::resource_exhausted);
}

}  // namespace
}  // namespace ferry::providers
