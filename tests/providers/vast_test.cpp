#include <gtest/gtest.h>

#include "providers/vast/request.hpp"
#include "providers/vast/response.hpp"
#include "tests/providers/recorded.hpp"

namespace ferry::providers::vast {
namespace {

using nlohmann::json;
using test::recorded;
using test::reply;

config::Resources gpu_resources() {
  config::Resources resources;
  config::GpuRequest gpu;
  gpu.memory_bytes.min = 16'000'000'000ull;
  gpu.memory_bytes.max = 80'000'000'000ull;
  gpu.count = {1.0, 2.0};
  gpu.names = {"RTX_4090", "A100"};
  resources.gpu = gpu;
  resources.disk_bytes = 50'000'000'000ull;
  resources.max_price_per_hour = 0.5;
  return resources;
}

TEST(VastQuery, BuildsOperatorFiltersInVastUnits) {
  SearchOptions options;
  options.countries = {"US", "CA"};
  json query = search_query(gpu_resources(), options);
  EXPECT_EQ(query["gpu_ram"]["gte"], 16000);
  EXPECT_EQ(query["gpu_ram"]["lte"], 81920);  // an "80GB" card reports 81920 MB
  EXPECT_EQ(query["num_gpus"]["gte"], 1);
  EXPECT_EQ(query["num_gpus"]["lte"], 2);
  EXPECT_EQ(query["gpu_name"]["in"], json::array({"RTX 4090", "A100"}));
  EXPECT_EQ(query["dph_total"]["lte"], 0.5);
  EXPECT_EQ(query["disk_space"]["gte"], 50);
  EXPECT_EQ(query["allocated_storage"], 50);
  EXPECT_EQ(query["direct_port_count"]["gte"], 1);
  EXPECT_EQ(query["reliability2"]["gte"], 0.9);
  EXPECT_EQ(query["cuda_max_good"]["gte"], 12.8);
  EXPECT_EQ(query["verified"]["eq"], true);
  EXPECT_EQ(query["rented"]["eq"], false);
  EXPECT_EQ(query["geolocation"]["in"], json::array({"US", "CA"}));
  EXPECT_EQ(query["type"], "on-demand");
  EXPECT_EQ(query["order"], json::parse(R"([["dph_total","asc"]])"));
}

TEST(VastQuery, SpotSearchesBidsAndScoreOrderIsAvailable) {
  config::Resources resources;
  resources.spot = true;
  SearchOptions options;
  options.order_by_score = true;
  json query = search_query(resources, options);
  EXPECT_EQ(query["type"], "bid");
  EXPECT_EQ(query["order"], json::parse(R"([["score","desc"]])"));
  EXPECT_FALSE(query.contains("gpu_ram"));
  EXPECT_EQ(query["disk_space"]["gte"], kDefaultDiskGb);
}

TEST(VastCreate, SendsImageEnvPortRequestLabelAndArgsRuntype) {
  Offer offer;
  offer.id = "9101";
  LaunchSpec launch;
  launch.image = "ghcr.io/example/ferry-agent:cuda";
  launch.label = "ferry:run-42";
  launch.env = {{"FERRY_AGENT_TOKEN", "secret"}, {"FERRY_IDLE_TIMEOUT", "10m"}};
  launch.disk_bytes = 4'000'000'000ull;  // below Vast's minimum
  auto request = create_request(offer, launch);
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->method, "PUT");
  EXPECT_EQ(request->path, "/api/v0/asks/9101/");
  EXPECT_FALSE(request->idempotent);
  json body = json::parse(request->body);
  EXPECT_EQ(body["image"], launch.image);
  EXPECT_EQ(body["label"], "ferry:run-42");
  EXPECT_EQ(body["runtype"], "args");
  EXPECT_EQ(body["disk"], kMinimumDiskGb);
  EXPECT_EQ(body["env"]["-p 8185:8185"], "1");
  EXPECT_EQ(body["env"]["FERRY_AGENT_TOKEN"], "secret");
  EXPECT_FALSE(body.contains("price"));
  offer.spot = true;
  offer.price_per_hour = 0.21;
  EXPECT_EQ(json::parse(create_request(offer, launch)->body)["price"], 0.21);
}

TEST(VastCreate, RejectsBadIdsEmptyImagesAndLongValues) {
  Offer offer;
  offer.id = "91/../01";
  LaunchSpec launch;
  launch.image = "img";
  EXPECT_EQ(create_request(offer, launch).error().code, ErrorCode::invalid_argument);
  offer.id = "9101";
  launch.image.clear();
  EXPECT_EQ(create_request(offer, launch).error().field, "image");
  launch.image = "img";
  launch.env["BIG"] = std::string(300, 'x');
  EXPECT_EQ(create_request(offer, launch).error().field, "BIG");
  EXPECT_FALSE(get_request("12a"));
  EXPECT_FALSE(destroy_request(""));
  EXPECT_EQ(destroy_request("123")->path, "/api/v0/instances/123/");
}

TEST(VastSearchAnswer, ParsesOffersSkipsRentedAndReportsUnreadableRows) {
  auto parsed = parse_search(reply(200, recorded("vast_search.json")), false);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->offers.size(), 2u);
  const Offer& first = parsed->offers[0];
  EXPECT_EQ(first.id, "9101");
  EXPECT_EQ(first.gpu_name, "RTX 4090");
  EXPECT_EQ(first.gpu_memory_bytes, 24'564'000'000ull);
  EXPECT_DOUBLE_EQ(first.price_per_hour, 0.412);
  EXPECT_DOUBLE_EQ(first.reliability, 0.993);
  EXPECT_EQ(first.region, "Texas, US");
  EXPECT_EQ(first.machine_id, "3301");
  EXPECT_EQ(parsed->offers[1].cpu_count, 0);  // cpu_cores null is fine
  ASSERT_EQ(parsed->skipped.size(), 1u);
  EXPECT_NE(parsed->skipped[0].find("dph_total"), std::string::npos);
  auto spot = parse_search(reply(200, recorded("vast_search.json")), true);
  EXPECT_DOUBLE_EQ(spot->offers[0].price_per_hour, 0.21);
  EXPECT_TRUE(spot->offers[0].spot);
}

TEST(VastSearchAnswer, SurprisingShapesAreClearErrors) {
  EXPECT_EQ(parse_search(reply(200, "<html>busy</html>"), false).error().code, ErrorCode::data_loss);
  EXPECT_NE(parse_search(reply(200, R"({"offers": null})"), false).error().message.find("'offers' is null"),
            std::string::npos);
  EXPECT_NE(parse_search(reply(200, R"({"offers": {}})"), false).error().message.find("should be an array"),
            std::string::npos);
  EXPECT_EQ(parse_search(reply(429, "API requests too frequent"), false).error().code, ErrorCode::unavailable);
}

TEST(VastCreateAnswer, SuccessGivesTheContractId) {
  auto outcome = parse_create(reply(200, R"({"success": true, "new_contract": 12345678, "instance_api_key": "d15a"})"), "9101");
  EXPECT_FALSE(outcome.error);
  EXPECT_EQ(outcome.instance_id, "12345678");
}

TEST(VastCreateAnswer, VanishedOfferIsAnOfferError) {
  auto outcome = parse_create(reply(404, recorded("vast_create_offer_gone.json")), "9101");
  ASSERT_TRUE(outcome.error);
  EXPECT_TRUE(is_offer_unavailable(*outcome.error));
  EXPECT_FALSE(outcome.instance_id);
  EXPECT_NE(outcome.error->message.find("vast: create instance on offer 9101"), std::string::npos);
  auto gone = parse_create(reply(410, R"({"success":false,"error":"no_such_ask","msg":"error 410/3907"})"), "9101");
  EXPECT_TRUE(is_offer_unavailable(*gone.error));
}

TEST(VastCreateAnswer, FailureThatStillMadeAnInstanceReportsBoth) {
  auto outcome = parse_create(reply(400, recorded("vast_create_error_with_contract.json")), "9101");
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.instance_id, "12345679");
  EXPECT_FALSE(is_offer_unavailable(*outcome.error));
  auto unauthorised = parse_create(reply(401, R"({"success":false,"error":"auth_error","msg":"Invalid user key"})"), "1");
  EXPECT_EQ(unauthorised.error->code, ErrorCode::unauthenticated);
  auto empty = parse_create(reply(200, R"({"success": true})"), "1");
  EXPECT_EQ(empty.error->code, ErrorCode::data_loss);
}

TEST(VastInstance, RunningResolvesStrippedAddressAndStringHostPort) {
  auto info = parse_get(reply(200, recorded("vast_instance_running.json")), "12345678", 8185);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->state, InstanceState::running);
  EXPECT_EQ(info->endpoint, "http://203.0.113.7:41234");
  EXPECT_EQ(info->label, "ferry:run-42");
  EXPECT_DOUBLE_EQ(info->price_per_hour.value(), 0.412);
}

TEST(VastInstance, LoadingHasNoEndpointYet) {
  auto info = parse_get(reply(200, recorded("vast_instance_loading.json")), "12345678", 8185);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->state, InstanceState::starting);
  EXPECT_FALSE(info->endpoint);
  EXPECT_NE(info->detail.find("Pulling image"), std::string::npos);
}

TEST(VastInstance, NullWrapperAnd404MeanGone) {
  EXPECT_EQ(parse_get(reply(200, R"({"instances": null})"), "5", 8185)->state, InstanceState::gone);
  EXPECT_EQ(parse_get(reply(404, "not found"), "5", 8185)->state, InstanceState::gone);
  EXPECT_EQ(parse_get(reply(200, R"({"instances": []})"), "5", 8185)->state, InstanceState::gone);
  EXPECT_EQ(parse_get(reply(200, R"({"something": 1})"), "5", 8185).error().code, ErrorCode::data_loss);
  EXPECT_EQ(parse_get(reply(200, R"({"instances": {"id": 6, "actual_status": "running"}})"), "5", 8185).error().code,
            ErrorCode::data_loss);
}

TEST(VastInstance, StatusesMapToLifecycleStates) {
  EXPECT_EQ(state_from_status(std::nullopt, ""), InstanceState::pending);
  EXPECT_EQ(state_from_status("created", ""), InstanceState::starting);
  EXPECT_EQ(state_from_status("created", "OCI runtime create failed: x"), InstanceState::exited);
  EXPECT_EQ(state_from_status("loading", ""), InstanceState::starting);
  EXPECT_EQ(state_from_status("exited", ""), InstanceState::exited);
  EXPECT_EQ(state_from_status("offline", ""), InstanceState::exited);
  EXPECT_EQ(state_from_status("unknown", ""), InstanceState::exited);
  EXPECT_EQ(state_from_status("stopped", ""), InstanceState::exited);
  EXPECT_EQ(state_from_status("teleporting", ""), InstanceState::unknown);
}

TEST(VastInstance, EndpointNeedsAnAddressAndAUsablePortMapping) {
  json instance = json::parse(recorded("vast_instance_running.json"))["instances"];
  EXPECT_FALSE(resolve_endpoint(instance, 9999));
  instance["ports"]["8185/tcp"][0]["HostPort"] = 41234;  // a number instead of a string is accepted
  EXPECT_EQ(resolve_endpoint(instance, 8185), "http://203.0.113.7:41234");
  instance["ports"]["8185/tcp"][0]["HostPort"] = "41x34";
  EXPECT_FALSE(resolve_endpoint(instance, 8185));
  instance["ports"]["8185/tcp"] = json::array();
  EXPECT_FALSE(resolve_endpoint(instance, 8185));
  instance["ports"] = nullptr;
  EXPECT_FALSE(resolve_endpoint(instance, 8185));
  instance = json::parse(recorded("vast_instance_running.json"))["instances"];
  instance["public_ipaddr"] = " \n";
  EXPECT_FALSE(resolve_endpoint(instance, 8185));
  instance["actual_status"] = "stopped";
  instance["public_ipaddr"] = "203.0.113.7";
  EXPECT_FALSE(parse_instance_object(instance, 8185)->endpoint);  // stale ports of a stopped instance
}

TEST(VastDestroy, AlreadyGoneIsSuccess) {
  EXPECT_TRUE(parse_destroy(reply(200, R"({"success": true})"), "5"));
  EXPECT_TRUE(parse_destroy(reply(404, R"({"success":false,"error":"not_found","msg":"Instance not found"})"), "5"));
  EXPECT_TRUE(parse_destroy(reply(200, R"({"success":false,"error":"no_such_instance","msg":"x"})"), "5"));
  EXPECT_EQ(parse_destroy(reply(500, "oops"), "5").error().code, ErrorCode::unavailable);
  EXPECT_FALSE(parse_destroy(reply(200, R"({"success":false,"error":"busy","msg":"try later"})"), "5"));
}

TEST(VastList, PagesCarryInstancesAndTheNextToken) {
  json page = {{"instances", json::array({json::parse(recorded("vast_instance_running.json"))["instances"]})},
               {"next_token", "abc"}};
  auto parsed = parse_list_page(reply(200, page.dump()), 8185);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->instances.size(), 1u);
  EXPECT_EQ(parsed->next_token, "abc");
  EXPECT_FALSE(parse_list_page(reply(200, R"({"instances": [], "next_token": null})"), 8185)->next_token);
  EXPECT_FALSE(parse_list_page(reply(200, R"({"instances": [1]})"), 8185));
}

}  // namespace
}  // namespace ferry::providers::vast
