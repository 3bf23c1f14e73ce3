#include <gtest/gtest.h>

#include "providers/fly/request.hpp"
#include "providers/fly/response.hpp"
#include "providers/runpod/request.hpp"
#include "providers/runpod/response.hpp"
#include "tests/providers/recorded.hpp"

namespace ferry::providers {
namespace {

using nlohmann::json;
using test::recorded;
using test::reply;

config::Resources gpu_of_at_least(std::uint64_t bytes) {
  config::Resources resources;
  config::GpuRequest gpu;
  gpu.memory_bytes.min = bytes;
  resources.gpu = gpu;
  return resources;
}

TEST(RunpodCatalog, KeepsStockedTypesThatFitAndPricesPerCount) {
  runpod::RunpodSettings settings;
  auto offers = runpod::parse_catalog(reply(200, recorded("runpod_catalog.json")), gpu_of_at_least(20'000'000'000ull),
                                      settings);
  ASSERT_TRUE(offers) << offers.error().message;
  ASSERT_EQ(offers->size(), 2u);  // the H100 has no stock
  EXPECT_EQ((*offers)[0].id, "NVIDIA GeForce RTX 4090");
  EXPECT_DOUBLE_EQ((*offers)[0].price_per_hour, 0.44);
  EXPECT_EQ((*offers)[0].region, "US-KS-2");
  EXPECT_EQ((*offers)[0].gpu_memory_bytes, 24'000'000'000ull);
  settings.cloud = "COMMUNITY";
  auto community = runpod::parse_catalog(reply(200, recorded("runpod_catalog.json")), gpu_of_at_least(1), settings);
  ASSERT_EQ(community->size(), 1u);  // the A100 is secure-only
  EXPECT_DOUBLE_EQ((*community)[0].price_per_hour, 0.31);
}

TEST(RunpodCatalog, WrongTypesAndProblemDetailsAreClearErrors) {
  runpod::RunpodSettings settings;
  auto broken = runpod::parse_catalog(reply(200, R"({"gpus": [{"id": "x", "memory": "24", "price": {}}]})"),
                                      config::Resources{}, settings);
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("'memory' should be a number"), std::string::npos);
  auto problem = runpod::parse_catalog(
      reply(401, R"({"title":"Unauthorized","status":401,"detail":"invalid api key"})"), config::Resources{}, settings);
  EXPECT_EQ(problem.error().code, ErrorCode::unauthenticated);
  EXPECT_NE(problem.error().message.find("invalid api key"), std::string::npos);
  EXPECT_NE(problem.error().message.find("RUNPOD_API_KEY"), std::string::npos);
}

TEST(RunpodCreate, OnDemandBodyNamesExactlyOneGpuAndThePort) {
  Offer offer;
  offer.id = "NVIDIA GeForce RTX 4090";
  offer.gpu_count = 1;
  offer.tier = "SECURE";
  LaunchSpec launch;
  launch.image = "ghcr.io/example/ferry-agent:cuda";
  launch.label = "ferry:run-42";
  launch.env = {{"FERRY_AGENT_TOKEN", "t"}};
  auto request = runpod::create_pod_request(offer, launch, {});
  ASSERT_TRUE(request);
  json body = json::parse(request->body);
  EXPECT_EQ(request->path, "/v2/pods");
  EXPECT_EQ(body["gpu"]["id"], offer.id);
  EXPECT_EQ(body["gpu"]["minCudaVersion"], "12.8");
  EXPECT_EQ(body["ports"], json::array({"8185/http"}));
  EXPECT_EQ(body["env"]["FERRY_AGENT_TOKEN"], "t");
  EXPECT_EQ(body["name"], "ferry:run-42");
  offer.tier = "MOON";
  EXPECT_EQ(runpod::create_pod_request(offer, launch, {}).error().field, "cloud");
}

TEST(RunpodCreate, SpotMutationInlinesEscapedLiteralsAndBidsPerGpu) {
  Offer offer;
  offer.id = "NVIDIA GeForce RTX 4090";
  offer.gpu_count = 2;
  offer.price_per_hour = 0.5;
  offer.spot = true;
  LaunchSpec launch;
  launch.image = "img";
  launch.label = "ferry:\"quoted\"";
  runpod::RunpodSettings settings;
  settings.expose_tcp = true;
  auto request = runpod::spot_create_request(offer, launch, settings);
  ASSERT_TRUE(request);
  std::string document = json::parse(request->body)["query"];
  EXPECT_NE(document.find("podRentInterruptable(input: {"), std::string::npos);
  EXPECT_NE(document.find("bidPerGpu: 0.25"), std::string::npos);
  EXPECT_NE(document.find("cloudType: SECURE"), std::string::npos);
  EXPECT_NE(document.find(R"(name: "ferry:\"quoted\"")"), std::string::npos);
  EXPECT_NE(document.find(R"(ports: "8185/tcp")"), std::string::npos);
}

TEST(RunpodGraphql, ErrorsWithStatus200AreErrorsAndNoCapacityIsAnOfferError) {
  auto created = runpod::parse_spot_create(reply(200, recorded("runpod_graphql_no_capacity.json")), "X");
  ASSERT_FALSE(created);
  EXPECT_TRUE(is_offer_unavailable(created.error()));
  EXPECT_NE(created.error().message.find("no longer any instances"), std::string::npos);
  auto internal = runpod::graphql_data(
      reply(200, R"({"errors":[{"message":"Something went wrong.","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]})"),
      "step", "pod");
  EXPECT_EQ(internal.error().code, ErrorCode::unavailable);
  EXPECT_FALSE(is_offer_unavailable(internal.error()));
  EXPECT_EQ(runpod::graphql_data(reply(200, R"({"data": {"pod": null}})"), "step", "pod").error().code,
            ErrorCode::data_loss);
  EXPECT_EQ(runpod::graphql_data(reply(200, R"({"data": {"pod": {"id": "a"}}})"), "step", "pod")->at("id"), "a");
}

TEST(RunpodCreateAnswer, NoCapacityAndForbiddenPoolMoveToTheNextCandidate) {
  auto no_capacity = runpod::parse_create_pod(
      reply(400, R"({"title":"Bad Request","status":400,"detail":"no instances available"})"), "X");
  EXPECT_TRUE(is_offer_unavailable(no_capacity.error()));
  EXPECT_TRUE(is_offer_unavailable(runpod::parse_create_pod(reply(403, "{}"), "X").error()));
  EXPECT_FALSE(is_offer_unavailable(runpod::parse_create_pod(reply(402, "{}"), "X").error()));
  EXPECT_EQ(runpod::parse_create_pod(reply(422, R"({"title":"x","status":422,"detail":"bad","errors":["$: bogus"]})"), "X")
                .error()
                .code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(*runpod::parse_create_pod(reply(201, R"({"id": "abc123", "status": "PROVISIONING"})"), "X"), "abc123");
}

TEST(RunpodPod, TcpEndpointComesFromRuntimePortsOnlyWhileRunning) {
  runpod::EndpointSettings tcp{8185, true, runpod::kDefaultProxyTemplate};
  json pod = json::parse(recorded("runpod_pod_running.json"));
  auto info = runpod::parse_pod_object(pod, tcp);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->endpoint, "http://195.26.233.3:34446");
  EXPECT_FALSE(info->request_time_limit);
  pod["status"] = "EXITED";  // stale ports stay in the answer
  EXPECT_FALSE(runpod::parse_pod_object(pod, tcp)->endpoint);
  EXPECT_EQ(runpod::parse_pod_object(pod, tcp)->state, InstanceState::exited);
  pod["status"] = "RUNNING";
  pod["runtime"]["ports"][1]["public"] = nullptr;
  EXPECT_FALSE(runpod::resolve_endpoint(pod, tcp));
  pod["runtime"] = nullptr;
  EXPECT_FALSE(runpod::resolve_endpoint(pod, tcp));
}

TEST(RunpodPod, HttpEndpointIsTheProxyUrlWithItsTimeLimit) {
  runpod::EndpointSettings http{8185, false, runpod::kDefaultProxyTemplate};
  auto info = runpod::parse_pod_object(json::parse(recorded("runpod_pod_running.json")), http);
  EXPECT_EQ(info->endpoint, "https://abc123xyz-8185.proxy.runpod.net");
  EXPECT_EQ(info->request_time_limit, std::chrono::seconds(100));
  EXPECT_EQ(runpod::parse_get_pod(reply(404, R"({"title":"Not Found"})"), "p", http)->state, InstanceState::gone);
  EXPECT_EQ(runpod::state_from_status("PROVISIONING"), InstanceState::starting);
  EXPECT_EQ(runpod::state_from_status("TERMINATED"), InstanceState::gone);
  EXPECT_TRUE(runpod::parse_terminate(reply(204, ""), "p"));
  EXPECT_TRUE(runpod::parse_terminate(reply(404, ""), "p"));
  EXPECT_EQ(runpod::parse_terminate(reply(409, R"({"detail":"pod belongs to a cluster"})"), "p").error().code,
            ErrorCode::failed_precondition);
  EXPECT_FALSE(runpod::get_pod_request("../x"));
}

TEST(Fly, GpuRequestsAreRefusedWithTheReason) {
  config::Resources resources = gpu_of_at_least(1);
  auto offers = fly::offers_for(resources, {});
  ASSERT_FALSE(offers);
  EXPECT_EQ(offers.error().code, ErrorCode::unsupported);
  EXPECT_NE(offers.error().message.find("2026-08-01"), std::string::npos);
  EXPECT_NE(offers.error().message.find("provider: vast"), std::string::npos);
}

TEST(Fly, CpuOffersAreThePerformanceSizesUnderTheMaximumPrice) {
  config::Resources resources;
  resources.max_price_per_hour = 0.2;
  auto offers = fly::offers_for(resources, {});
  ASSERT_TRUE(offers);
  ASSERT_EQ(offers->size(), 2u);
  EXPECT_EQ((*offers)[0].id, "performance-2x");
  EXPECT_EQ((*offers)[1].id, "performance-4x");
}

TEST(Fly, MachineBodyServesTheAgentPortOn443WithMetadata) {
  Offer offer;
  offer.id = "performance-2x";
  LaunchSpec launch;
  launch.image = "img";
  launch.label = "ferry:run-42";
  auto request = fly::create_machine_request("ferry-run-42-abc", offer, launch, {});
  ASSERT_TRUE(request);
  json body = json::parse(request->body);
  EXPECT_EQ(body["config"]["guest"]["cpu_kind"], "performance");
  EXPECT_EQ(body["config"]["guest"]["cpus"], 2);
  EXPECT_EQ(body["config"]["services"][0]["internal_port"], 8185);
  EXPECT_EQ(body["config"]["services"][0]["ports"][0]["port"], 443);
  EXPECT_EQ(body["config"]["metadata"]["ferry_label"], "ferry:run-42");
  offer.id = "a100-80gb";
  EXPECT_FALSE(fly::create_machine_request("a", offer, launch, {}));
}

TEST(Fly, AppNamesAndInstanceIdsAreSafe) {
  EXPECT_EQ(fly::app_name_for("ferry:Run_42", "x1"), "ferry-run-42-x1");
  EXPECT_LE(fly::app_name_for("ferry:" + std::string(100, 'a'), "x1").size(), 63u);
  auto parts = fly::split_instance_id("ferry-a/1857156b526dd8");
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->first, "ferry-a");
  EXPECT_FALSE(fly::split_instance_id("ferry-a"));
  EXPECT_FALSE(fly::split_instance_id("Ferry/../x"));
}

TEST(Fly, StartedMachineIsReachedThroughTheAppUrl) {
  auto info = fly::parse_get_machine(reply(200, recorded("fly_machine_started.json")), "ferry-a", "1857156b526dd8",
                                     fly::kDefaultAppUrlTemplate);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->state, InstanceState::running);
  EXPECT_EQ(info->endpoint, "https://ferry-a.fly.dev");
  EXPECT_EQ(info->label, "ferry:run-42");
  EXPECT_EQ(info->id, "ferry-a/1857156b526dd8");
  EXPECT_EQ(fly::parse_get_machine(reply(404, R"({"error":"machine not found"})"), "a", "b", "")->state,
            InstanceState::gone);
  EXPECT_EQ(fly::state_from_machine_state("created"), InstanceState::starting);
  EXPECT_EQ(fly::state_from_machine_state("failed"), InstanceState::exited);
  EXPECT_FALSE(fly::parse_machine_object(json::parse(R"({"id": "x", "state": 3})"), "a", ""));
}

TEST(Fly, CapacityAnswersAreOfferErrorsAndTakenNamesAreDistinct) {
  auto capacity = fly::parse_create_machine(
      reply(412, R"({"error":"insufficient resources to create new machine","status":"insufficient_capacity"})"), "a");
  EXPECT_TRUE(is_offer_unavailable(capacity.error()));
  EXPECT_FALSE(is_offer_unavailable(fly::parse_create_machine(reply(401, R"({"error":"unauthorized"})"), "a").error()));
  EXPECT_EQ(fly::parse_create_app(reply(422, R"({"error":"taken","status":"name_taken"})"), "a").error().code,
            ErrorCode::already_exists);
  EXPECT_TRUE(fly::parse_delete(reply(404, ""), "app a"));
  EXPECT_FALSE(fly::parse_delete(reply(500, ""), "app a"));
}

}  // namespace
}  // namespace ferry::providers
