// `ferry offers` flags to resources, and its table.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "controller/offers.hpp"

namespace ferry::controller {
namespace {

TEST(OffersQuery, AsksForOneGpuByDefaultAndNoneOnFly) {
  OffersQuery query;
  query.provider = "vast";
  auto vast = resources_for(query);
  ASSERT_TRUE(vast);
  EXPECT_TRUE(vast->gpu.has_value());
  query.provider = "fly";
  auto fly = resources_for(query);
  ASSERT_TRUE(fly);
  EXPECT_FALSE(fly->gpu.has_value()) << "Fly has CPU machines only";
}

TEST(OffersQuery, GpuMemoryIsParsedAndBadValuesNameTheFlag) {
  OffersQuery query;
  query.min_gpu_memory = "24GB";
  auto resources = resources_for(query);
  ASSERT_TRUE(resources);
  EXPECT_EQ(resources->gpu->memory_bytes.min, 24'000'000'000ull);
  query.min_gpu_memory = "lots";
  auto bad = resources_for(query);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().field, "--gpu-memory");
  query.min_gpu_memory.clear();
  query.cpu_only = true;
  query.gpu_names = {"A100"};
  EXPECT_FALSE(resources_for(query)) << "--cpu with --gpu is contradictory";
}

TEST(OffersTable, ShowsAtMostTheLimitAndSaysHowManyMore) {
  std::vector<providers::Offer> offers(3);
  for (int i = 0; i < 3; ++i) {
    offers[i].provider = "vast";
    offers[i].id = "offer-" + std::to_string(i);
    offers[i].gpu_name = "RTX 4090";
    offers[i].price_per_hour = 0.3 + i;
  }
  std::string table = format_offers_table(offers, 2);
  EXPECT_NE(table.find("offer-1"), std::string::npos);
  EXPECT_EQ(table.find("offer-2"), std::string::npos);
  EXPECT_NE(table.find("1 more"), std::string::npos) << table;
  EXPECT_EQ(offers_to_json(offers).size(), 3u);
}

}  // namespace
}  // namespace ferry::controller
