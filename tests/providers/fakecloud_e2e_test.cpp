// Each provider class against a running fakecloud whose instances are real
// ferry-agent processes: search, create, wait for the endpoint, reach the
// agent, destroy, and check the emulator's ledger. Plus the faults the
// providers must survive.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "common/http_client.hpp"
#include "providers/fly/fly_provider.hpp"
#include "providers/ranking.hpp"
#include "providers/runpod/runpod_provider.hpp"
#include "providers/vast/vast_provider.hpp"
#include "tests/support/fakecloud.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"

namespace ferry::providers {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class Fakecloud : public ::testing::Test {
 protected:
  void SetUp() override {
    http_global_init();
    ASSERT_TRUE(fakecloud_.start(FAKECLOUD_BIN, FERRY_AGENT_BIN, dir_.path()));
    base_ = fakecloud_.base();
    control("/_fake/faults", R"({"boot_ms": 150})");
  }
  void TearDown() override { fakecloud_.stop(); }

  json control(const std::string& path, const std::string& body = {}) { return fakecloud_.control(path, body); }

  json ledger_row(const std::string& id) {
    json ledger = control("/_fake/ledger");
    for (const auto& row : ledger["instances"])
      if (row["id"] == id) return row;
    return {};
  }

  TransportOptions quick_transport() {
    TransportOptions transport;
    transport.retry = RetryPolicy{4, 10ms, 2000ms, 2.0};
    transport.sleep = [this](std::chrono::milliseconds wait) {
      sleeps_.push_back(wait);
      std::this_thread::sleep_for(wait);
    };
    return transport;
  }

  InstanceInfo wait_until_reachable(Provider& provider, const std::string& id) {
    InstanceInfo last;
    test::wait_until(
        [&] {
          auto info = provider.get(id);
          if (!info) {
            ADD_FAILURE() << info.error().message;
            return true;
          }
          last = *info;
          return last.state == InstanceState::running && last.endpoint.has_value();
        },
        20s);
    return last;
  }

  int healthz(const std::string& endpoint) {
    HttpRequest request;
    request.url = endpoint + "/healthz";
    auto response = client_.send(request);
    return response ? response->status : 0;
  }

  LaunchSpec launch(const std::string& image = "ghcr.io/example/ferry-agent:cuda") {
    LaunchSpec spec;
    spec.image = image;
    spec.label = "ferry:run-test";
    spec.env = {{"FERRY_AGENT_TOKEN", "token-for-tests"}, {"FERRY_IDLE_TIMEOUT", "5m"}, {"FERRY_DEADLINE", "10m"}};
    return spec;
  }

  vast::VastProvider vast_provider() {
    vast::VastOptions options;
    options.api_url = base_;
    options.api_key = "test-key";
    options.transport = quick_transport();
    return vast::VastProvider(options);
  }

  test::TempDir dir_{"ferry-fakecloud"};
  test::RunningFakecloud fakecloud_;
  std::string base_;
  HttpClient client_;
  std::vector<std::chrono::milliseconds> sleeps_;
};

config::Resources one_gpu_of(std::uint64_t memory) {
  config::Resources resources;
  config::GpuRequest gpu;
  gpu.memory_bytes.min = memory;
  resources.gpu = gpu;
  return resources;
}

TEST_F(Fakecloud, VastInstanceRunsAnAgentAndIsDestroyedAndBilled) {
  auto provider = vast_provider();
  auto offers = provider.search(one_gpu_of(24'000'000'000ull));
  ASSERT_TRUE(offers) << offers.error().message;
  ASSERT_FALSE(offers->empty());
  EXPECT_EQ(offers->front().gpu_name, "RTX 3090");  // the cheapest that fits
  auto id = provider.create(offers->front(), launch());
  ASSERT_TRUE(id) << id.error().message;
  InstanceInfo info = wait_until_reachable(provider, *id);
  ASSERT_TRUE(info.endpoint) << info.detail;
  EXPECT_EQ(info.endpoint->rfind("http://127.0.0.1:", 0), 0u);  // the newline after the address is gone
  EXPECT_EQ(healthz(*info.endpoint), 200);
  EXPECT_EQ(info.label, "ferry:run-test");

  auto listed = provider.list("ferry:");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, *id);

  ASSERT_TRUE(provider.destroy(*id));
  EXPECT_TRUE(provider.destroy(*id)) << "destroying twice is success";
  EXPECT_EQ(provider.get(*id)->state, InstanceState::gone);  // {"instances": null}
  EXPECT_NE(healthz(*info.endpoint), 200);
  json row = ledger_row(*id);
  EXPECT_EQ(row["provider"], "vast");
  EXPECT_FALSE(row["destroyed_at"].is_null());
  EXPECT_GT(row["cost"].get<double>(), 0.0);
  // When its agent started listening, for benchmarks; inside the instance's life.
  ASSERT_TRUE(row["agent_listening_at"].is_number()) << row.dump();
  EXPECT_GE(row["agent_listening_at"].get<double>(), row["created_at"].get<double>() - 0.01);
  EXPECT_LE(row["agent_listening_at"].get<double>(), row["destroyed_at"].get<double>());
}

TEST_F(Fakecloud, VastBacksOffFrom429WithoutRetryAfter) {
  control("/_fake/faults", R"({"rate_limit": 2})");
  auto provider = vast_provider();
  auto offers = provider.search(config::Resources{});
  ASSERT_TRUE(offers) << offers.error().message;
  ASSERT_EQ(sleeps_.size(), 2u);
  EXPECT_LT(sleeps_[0], sleeps_[1]);  // exponential, since Vast says nothing about when
}

TEST_F(Fakecloud, VastMovesOnWhenAnOfferVanishesBetweenSearchAndCreate) {
  auto provider = vast_provider();
  auto offers = provider.search(one_gpu_of(24'000'000'000ull));
  ASSERT_TRUE(offers);
  ASSERT_GE(offers->size(), 2u);
  control("/_fake/faults", R"({"vanish_offers": 1})");
  auto launched = create_on_first_available(provider, *offers, launch());
  ASSERT_TRUE(launched) << launched.error().message;
  EXPECT_EQ(launched->offer_index, 1u);
  EXPECT_TRUE(provider.destroy(launched->instance_id));
}

TEST_F(Fakecloud, VastDestroyThatFailsTwiceIsRetriedUntilDone) {
  auto provider = vast_provider();
  auto offers = provider.search(config::Resources{});
  auto id = provider.create(offers->front(), launch());
  ASSERT_TRUE(id) << id.error().message;
  control("/_fake/faults", R"({"destroy_failures": 2})");
  ASSERT_TRUE(provider.destroy(*id));
  EXPECT_FALSE(ledger_row(*id)["destroyed_at"].is_null());
}

TEST_F(Fakecloud, VastFailedCreateThatStillMadeAnInstanceDestroysIt) {
  auto provider = vast_provider();
  auto offers = provider.search(config::Resources{});
  control("/_fake/faults", R"({"create_error_with_contract": 1})");
  auto id = provider.create(offers->front(), launch());
  ASSERT_FALSE(id);
  json rows = control("/_fake/ledger")["instances"];
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_FALSE(rows[0]["destroyed_at"].is_null()) << "the stray instance must not keep billing";
}

TEST_F(Fakecloud, VastInstanceWhoseContainerExitsIsReportedExited) {
  control("/_fake/faults", R"({"exit_instances": 1})");
  auto provider = vast_provider();
  auto offers = provider.search(config::Resources{});
  auto id = provider.create(offers->front(), launch());
  ASSERT_TRUE(id);
  InstanceInfo last;
  test::wait_until([&] { last = *provider.get(*id); return last.state == InstanceState::exited; }, 10s);
  EXPECT_EQ(last.state, InstanceState::exited);
  EXPECT_NE(last.detail.find("exited"), std::string::npos);
  EXPECT_TRUE(provider.destroy(*id));
}

runpod::RunpodProvider runpod_provider(const std::string& base, TransportOptions transport, bool tcp) {
  runpod::RunpodOptions options;
  options.api_url = base;
  options.graphql_url = base + "/graphql";
  options.proxy_template = base + "/_fake/proxy/{pod_id}-{port}";
  options.api_key = "test-key";
  options.settings.expose_tcp = tcp;
  options.transport = std::move(transport);
  return runpod::RunpodProvider(options);
}

TEST_F(Fakecloud, RunpodOnDemandPodOverTcpAndHonouredRetryAfter) {
  control("/_fake/faults", R"({"rate_limit": 1, "retry_after_seconds": 0})");
  auto provider = runpod_provider(base_, quick_transport(), true);
  auto offers = provider.search(one_gpu_of(20'000'000'000ull));
  ASSERT_TRUE(offers) << offers.error().message;
  ASSERT_EQ(sleeps_.size(), 1u);
  EXPECT_EQ(sleeps_[0], 0ms);  // what Retry-After said
  EXPECT_EQ(offers->front().id, "NVIDIA GeForce RTX 4090");
  auto id = provider.create(offers->front(), launch());
  ASSERT_TRUE(id) << id.error().message;
  InstanceInfo info = wait_until_reachable(provider, *id);
  ASSERT_TRUE(info.endpoint) << info.detail;
  EXPECT_EQ(healthz(*info.endpoint), 200);
  ASSERT_TRUE(provider.destroy(*id));
  EXPECT_TRUE(provider.destroy(*id));
  EXPECT_EQ(provider.get(*id)->state, InstanceState::gone);
  EXPECT_FALSE(ledger_row(*id)["destroyed_at"].is_null());
}

TEST_F(Fakecloud, RunpodSpotPodThroughGraphqlIsReachedThroughTheProxy) {
  auto provider = runpod_provider(base_, quick_transport(), false);
  config::Resources resources = one_gpu_of(20'000'000'000ull);
  resources.spot = true;
  auto offers = provider.search(resources);
  ASSERT_TRUE(offers) << offers.error().message;
  ASSERT_FALSE(offers->empty());
  EXPECT_TRUE(offers->front().spot);
  auto id = provider.create(offers->front(), launch());
  ASSERT_TRUE(id) << id.error().message;
  InstanceInfo info = wait_until_reachable(provider, *id);
  ASSERT_TRUE(info.endpoint);
  EXPECT_EQ(info.request_time_limit, std::chrono::seconds(100));
  EXPECT_EQ(healthz(*info.endpoint), 200);
  EXPECT_NEAR(ledger_row(*id)["price_per_hour"].get<double>(), offers->front().price_per_hour, 1e-9);
  EXPECT_TRUE(provider.destroy(*id));
}

TEST_F(Fakecloud, FlyCpuMachineRunsBehindItsAppAndTheAppIsDeleted) {
  fly::FlyOptions options;
  options.api_url = base_;
  options.app_url_template = base_ + "/_fake/proxy/{app}";
  options.api_token = "test-token";
  options.transport = quick_transport();
  fly::FlyProvider provider(options);
  EXPECT_EQ(provider.search(one_gpu_of(1)).error().code, ErrorCode::unsupported);
  auto offers = provider.search(config::Resources{});
  ASSERT_TRUE(offers);
  auto id = provider.create(offers->front(), launch("ghcr.io/example/ferry-agent:cpu"));
  ASSERT_TRUE(id) << id.error().message;
  InstanceInfo info = wait_until_reachable(provider, *id);
  ASSERT_TRUE(info.endpoint) << info.detail;
  EXPECT_EQ(healthz(*info.endpoint), 200);
  auto listed = provider.list("ferry:run-test");
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->size(), 1u);
  ASSERT_TRUE(provider.destroy(*id));
  EXPECT_TRUE(provider.destroy(*id));
  EXPECT_EQ(provider.get(*id)->state, InstanceState::gone);
  auto machine = id->substr(id->find('/') + 1);
  EXPECT_FALSE(ledger_row(machine)["destroyed_at"].is_null());
}

}  // namespace
}  // namespace ferry::providers
