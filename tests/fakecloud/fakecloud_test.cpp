// The emulator's handlers without agents: search filters, GraphQL literals,
// auth, faults and the shapes of "gone".

#include <gtest/gtest.h>

#include "tests/fakecloud/handlers.hpp"
#include "tests/fakecloud/server.hpp"

namespace ferry::fakecloud {
namespace {

using nlohmann::json;

Request make(std::string method, std::string path, std::string body = {}, bool authorised = true) {
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.body = std::move(body);
  if (authorised) request.headers["authorization"] = "Bearer test-key";
  return request;
}

class FakecloudHandlers : public ::testing::Test {
 protected:
  World world{"/nonexistent/ferry-agent", std::filesystem::temp_directory_path() / "fakecloud-test-unused"};
};

TEST_F(FakecloudHandlers, VastSearchAppliesOperatorFiltersAndOrder) {
  json query = {{"gpu_ram", {{"gte", 24000}}}, {"num_gpus", {{"eq", 1}}}, {"dph_total", {{"lte", 0.5}}},
                {"order", json::array({json::array({"dph_total", "asc"})})}, {"type", "on-demand"}};
  Response response = dispatch(world, make("POST", "/api/v0/bundles/", query.dump(), false));
  ASSERT_EQ(response.status, 200);
  json offers = json::parse(response.body)["offers"];
  ASSERT_EQ(offers.size(), 2u);
  EXPECT_EQ(offers[0]["gpu_name"], "RTX 3090");
  EXPECT_EQ(offers[1]["gpu_name"], "RTX 4090");
}

TEST_F(FakecloudHandlers, VastSearchMatchesCountryCodesAndAcceptsBothTypeSpellings) {
  json query = {{"geolocation", {{"in", json::array({"CA"})}}}, {"type", "ondemand"}};
  Response response = dispatch(world, make("POST", "/api/v0/bundles/", query.dump()));
  ASSERT_EQ(response.status, 200);
  EXPECT_TRUE(json::parse(response.body)["offers"].empty());
  query["geolocation"]["in"] = json::array({"US"});
  response = dispatch(world, make("POST", "/api/v0/bundles/", query.dump()));
  EXPECT_EQ(json::parse(response.body)["offers"].size(), 4u);
}

TEST_F(FakecloudHandlers, VastRateLimitIsPlainTextWithoutRetryAfter) {
  world.faults.rate_limit = 1;
  Response limited = dispatch(world, make("GET", "/api/v0/instances/5/"));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.content_type, "text/plain");
  EXPECT_TRUE(limited.headers.empty());
  EXPECT_EQ(dispatch(world, make("GET", "/api/v0/instances/5/")).status, 200);
}

TEST_F(FakecloudHandlers, VastUnknownInstanceIsNullAndNeedsAKey) {
  Response response = dispatch(world, make("GET", "/api/v0/instances/12345/"));
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(json::parse(response.body)["instances"].is_null());
  EXPECT_EQ(dispatch(world, make("GET", "/api/v0/instances/12345/", "", false)).status, 401);
}

TEST_F(FakecloudHandlers, VastCreateOnAVanishedOfferAnswersNoSuchAsk) {
  world.faults.vanish_offers = 1;
  json body = {{"image", "img"}, {"disk", 20}, {"env", json::object()}};
  Response response = dispatch(world, make("PUT", "/api/v0/asks/4001/", body.dump()));
  EXPECT_EQ(response.status, 404);
  EXPECT_NE(response.body.find("no_such_ask"), std::string::npos);
}

TEST_F(FakecloudHandlers, RunpodGraphqlErrorsComeWithStatus200) {
  json body = {{"query", "mutation { podRentInterruptable(input: {gpuTypeId: \"NVIDIA H100 80GB HBM3\", "
                         "cloudType: SECURE, gpuCount: 1, bidPerGpu: 1.0}) { id } }"}};
  Response response = dispatch(world, make("POST", "/graphql", body.dump()));
  EXPECT_EQ(response.status, 200);
  json parsed = json::parse(response.body);
  ASSERT_TRUE(parsed["errors"].is_array());
  EXPECT_NE(parsed["errors"][0]["message"].get<std::string>().find("no longer any instances"), std::string::npos);
}

TEST_F(FakecloudHandlers, RunpodRateLimitCarriesRetryAfter) {
  world.faults.rate_limit = 1;
  world.faults.retry_after_seconds = 3;
  Response response = dispatch(world, make("GET", "/v2/pods"));
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.content_type, "application/problem+json");
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].second, "3");
}

TEST_F(FakecloudHandlers, RunpodUnknownPodIsAProblem404) {
  Response response = dispatch(world, make("GET", "/v2/pods/nothere"));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(json::parse(response.body)["title"], "Not Found");
}

TEST_F(FakecloudHandlers, FlyRefusesGpuMachinesWithACapacityError) {
  ASSERT_EQ(dispatch(world, make("POST", "/v1/apps", json{{"app_name", "ferry-a"}}.dump())).status, 201);
  EXPECT_EQ(dispatch(world, make("POST", "/v1/apps", json{{"app_name", "ferry-a"}}.dump())).status, 422);
  json body = {{"config", {{"image", "img"}, {"guest", {{"gpu_kind", "a100-sxm4-80gb"}, {"gpus", 1}}}}}};
  Response response = dispatch(world, make("POST", "/v1/apps/ferry-a/machines", body.dump()));
  EXPECT_EQ(response.status, 412);
  EXPECT_EQ(json::parse(response.body)["status"], "insufficient_capacity");
}

TEST_F(FakecloudHandlers, FaultsRejectUnknownNamesAndNegativeCounts) {
  EXPECT_EQ(dispatch(world, make("POST", "/_fake/faults", R"({"no_such_fault": 1})")).status, 400);
  EXPECT_EQ(dispatch(world, make("POST", "/_fake/faults", R"({"rate_limit": -1})")).status, 400);
  EXPECT_EQ(dispatch(world, make("POST", "/_fake/faults", R"({"rate_limit": 2})")).status, 200);
  EXPECT_EQ(world.faults.rate_limit, 2);
}

TEST(GraphqlLiteral, ParsesObjectsListsEnumsAndEscapedStrings) {
  std::size_t at = 0;
  auto value = parse_graphql_value(R"({name: "a \"b\"", n: 2, f: 0.5, e: SECURE, l: [{key: "K", value: "V"}], t: true})", at);
  ASSERT_TRUE(value);
  EXPECT_EQ((*value)["name"], "a \"b\"");
  EXPECT_EQ((*value)["n"], 2);
  EXPECT_EQ((*value)["f"], 0.5);
  EXPECT_EQ((*value)["e"], "SECURE");
  EXPECT_EQ((*value)["l"][0]["value"], "V");
  EXPECT_EQ((*value)["t"], true);
}

TEST(GraphqlLiteral, RejectsUnterminatedInput) {
  std::size_t at = 0;
  EXPECT_FALSE(parse_graphql_value(R"({name: "open)", at));
  at = 0;
  EXPECT_FALSE(parse_graphql_value("{name 1}", at));
}

}  // namespace
}  // namespace ferry::fakecloud
