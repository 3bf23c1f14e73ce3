// `ferry offers`, `ferry gc` and `ferry down` against a running fakecloud
// (whose instances are real ferry-agent processes), for every provider: the
// real ferry binary with the FERRY_*_API_URL overrides and fake credentials.
// After each scenario the emulator's ledger says which instances still bill.

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <thread>
#include <nlohmann/json.hpp>

#include "common/http_client.hpp"
#include "controller/instance_driver.hpp"
#include "controller/provider_factory.hpp"
#include "controller/run_lease.hpp"
#include "controller/state_store.hpp"
#include "providers/ranking.hpp"
#include "tests/support/fakecloud.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"

namespace ferry::controller {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct CommandResult {
  int exit_status = -1;
  std::string out;
  std::string err;
};

class CloudCommands : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    http_global_init();
    ASSERT_TRUE(fakecloud_.start(FAKECLOUD_BIN, FERRY_AGENT_BIN, dir_.path()));
    base_ = fakecloud_.base();
    control("/_fake/faults", R"({"boot_ms": 100})");
    // The same variables for this process (the providers the test makes)
    // and for every ferry it starts.
    env_ = fakecloud_.client_environment(dir_ / "state");
    for (const auto& [name, value] : env_) ::setenv(name.c_str(), value.c_str(), 1);
  }

  void TearDown() override {
    for (const auto& [name, value] : env_) ::unsetenv(name.c_str());
    fakecloud_.stop();
  }

  json control(const std::string& path, const std::string& body = {}) { return fakecloud_.control(path, body); }

  /// Ids of the instances the ledger says still bill.
  std::vector<std::string> live_instances() {
    std::vector<std::string> live;
    json ledger = control("/_fake/ledger");
    for (const auto& row : ledger["instances"])
      if (row["destroyed_at"].is_null()) live.push_back(row["id"]);
    return live;
  }

  CommandResult ferry(std::vector<std::string> args, const std::vector<std::string>& unset = {}) {
    static int counter = 0;
    std::string stem = "ferry-" + std::to_string(++counter);
    test::ChildProcess::Options options;
    options.argv = {FERRY_BIN};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.stdout_path = dir_ / (stem + ".out");
    options.stderr_path = dir_ / (stem + ".err");
    options.unset_env = unset;
    test::ChildProcess process(options);
    CommandResult result;
    auto status = process.wait_for_exit(90s);
    result.exit_status = status.value_or(-1);
    result.out = test::read_text(options.stdout_path);
    result.err = test::read_text(options.stderr_path);
    return result;
  }

  std::unique_ptr<providers::Provider> provider() {
    auto made = make_provider(GetParam());
    EXPECT_TRUE(made) << made.error().message;
    return made ? std::move(*made) : nullptr;
  }

  /// Starts an instance labelled for `run_id` straight through the provider,
  /// as a ferry that died afterwards would have left it.
  std::string start_instance(providers::Provider& cloud, const std::string& run_id) {
    config::Resources resources;
    if (GetParam() != "fly") resources.gpu = config::GpuRequest{};
    auto offers = cloud.search(resources);
    EXPECT_TRUE(offers && !offers->empty()) << (offers ? "no offers" : offers.error().message);
    if (!offers || offers->empty()) return {};
    providers::LaunchSpec launch;
    launch.image = "ghcr.io/example/ferry-agent:cpu";
    launch.label = "ferry:" + run_id;
    launch.env = {{"FERRY_AGENT_TOKEN", "t"}, {"FERRY_IDLE_TIMEOUT", "5m"}, {"FERRY_DEADLINE", "10m"}};
    auto id = cloud.create(offers->front(), launch);
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : std::string();
  }

  std::filesystem::path state_dir() const { return dir_ / "state" / "ferry"; }

  test::TempDir dir_{"ferry-cloud-e2e"};
  test::RunningFakecloud fakecloud_;
  std::string base_;
  std::map<std::string, std::string> env_;
  HttpClient client_;
};

TEST_P(CloudCommands, GcWithoutYesAndWithoutATerminalListsAndRefuses) {
  auto cloud = provider();
  std::string id = start_instance(*cloud, "run-dead");
  ASSERT_FALSE(id.empty());
  CommandResult gc = ferry({"gc", "--provider", GetParam()});
  EXPECT_EQ(gc.exit_status, 2) << gc.err;
  EXPECT_NE(gc.err.find("--yes"), std::string::npos) << gc.err;
  EXPECT_NE(gc.out.find(id), std::string::npos) << gc.out;
  EXPECT_EQ(live_instances().size(), 1u) << "nothing is destroyed without confirmation";
  EXPECT_EQ(ferry({"gc", "--yes"}).exit_status, 0);
}

TEST_P(CloudCommands, GcDestroysOrphansAndSparesRunsWhoseFerryIsAlive) {
  auto cloud = provider();
  std::string orphan = start_instance(*cloud, "run-dead");
  std::string owned = start_instance(*cloud, "run-live");
  ASSERT_FALSE(orphan.empty());
  ASSERT_FALSE(owned.empty());
  {
    auto lease = RunLease::acquire(state_dir(), "run-live");
    ASSERT_TRUE(lease) << lease.error().message;
    CommandResult gc = ferry({"gc", "--yes"});
    EXPECT_EQ(gc.exit_status, 0) << gc.err;
    auto live = live_instances();
    ASSERT_EQ(live.size(), 1u) << gc.out << gc.err;
    // The ledger names Fly machines without their app ("<app>/<machine>").
    EXPECT_TRUE(owned.ends_with(live.front())) << owned << " vs " << live.front();
  }
  // Its ferry gone (the lease released), the second one is an orphan too.
  CommandResult gc = ferry({"gc", "--yes"});
  EXPECT_EQ(gc.exit_status, 0) << gc.err;
  EXPECT_TRUE(live_instances().empty()) << gc.out << gc.err;
}

TEST_P(CloudCommands, GcConfirmsTheDestroyEvenWhenItFailsTwice) {
  auto cloud = provider();
  ASSERT_FALSE(start_instance(*cloud, "run-flaky").empty());
  control("/_fake/faults", R"({"destroy_failures": 2})");
  CommandResult gc = ferry({"gc", "--yes"});
  EXPECT_EQ(gc.exit_status, 0) << gc.err;
  EXPECT_TRUE(live_instances().empty()) << gc.out << gc.err;
}

TEST_P(CloudCommands, DownStopsAKeptInstanceThatGcSpares) {
  auto cloud = provider();
  std::string id = start_instance(*cloud, "run-kept");
  ASSERT_FALSE(id.empty());
  {
    auto store = StateStore::open(state_dir() / "state.db");
    ASSERT_TRUE(store) << store.error().message;
    RunRecord run;
    run.id = "run-kept";
    run.name = "kept";
    run.provider = GetParam();
    run.state = RunState::succeeded;
    run.started_at = now_unix();
    ASSERT_TRUE(store->create_run(run));
    auto row = store->record_intended_instance(run.id, GetParam());
    ASSERT_TRUE(row);
    ASSERT_TRUE(store->set_instance_created(*row, id));
    ASSERT_TRUE(store->set_instance_state(*row, "kept"));
  }
  CommandResult gc = ferry({"gc", "--yes"});
  EXPECT_EQ(gc.exit_status, 0) << gc.err;
  EXPECT_EQ(live_instances().size(), 1u) << "a kept instance is stopped with ferry down, not collected";

  CommandResult down = ferry({"down", "run-kept"});
  EXPECT_EQ(down.exit_status, 0) << down.err;
  EXPECT_TRUE(live_instances().empty()) << down.out << down.err;
  auto store = StateStore::open(state_dir() / "state.db");
  auto instances = store->list_instances("run-kept");
  ASSERT_TRUE(instances);
  ASSERT_EQ(instances->size(), 1u);
  EXPECT_EQ(instances->front().state, "destroyed");
}

TEST_P(CloudCommands, OffersPrintsRankedJson) {
  CommandResult offers = ferry({"offers", "--provider", GetParam(), "--json"});
  ASSERT_EQ(offers.exit_status, 0) << offers.err;
  json list = json::parse(offers.out, nullptr, false);
  ASSERT_TRUE(list.is_array()) << offers.out;
  ASSERT_FALSE(list.empty());
  for (std::size_t i = 1; i < list.size(); ++i)
    EXPECT_LE(list[i - 1]["price_per_hour"].get<double>(), list[i]["price_per_hour"].get<double>());
  EXPECT_EQ(list[0]["provider"], GetParam());
}

TEST_P(CloudCommands, MissingCredentialIsNamed) {
  const char* variable = credential_variable(GetParam());
  CommandResult gc = ferry({"gc", "--yes", "--provider", GetParam()}, {variable});
  EXPECT_NE(gc.exit_status, 0);
  EXPECT_NE(gc.err.find(variable), std::string::npos) << gc.err;
}

// The instance driver in this process: bring up over the provider, tear
// down, and what the ledger and the state store say afterwards.
class InstanceDriverOnFakecloud : public CloudCommands {
 protected:
  struct Fixture {
    std::optional<StateStore> store;
    std::unique_ptr<providers::Provider> cloud;
    InstanceRequest request;
  };

  Fixture fixture(const std::string& run_id) {
    Fixture f;
    auto store = StateStore::open(state_dir() / "state.db");
    EXPECT_TRUE(store) << store.error().message;
    f.store.emplace(std::move(*store));
    f.cloud = provider();
    config::Resources resources;
    if (GetParam() != "fly") resources.gpu = config::GpuRequest{};
    auto offers = f.cloud->search(resources);
    EXPECT_TRUE(offers) << offers.error().message;
    f.request.run_id = run_id;
    f.request.ranked_offers = providers::rank_offers(offers ? *offers : std::vector<providers::Offer>{}, 10.0);
    f.request.launch.image = "ghcr.io/example/ferry-agent:cpu";
    f.request.launch.label = "ferry:" + run_id;
    f.request.launch.env = {{"FERRY_AGENT_TOKEN", "t"}, {"FERRY_IDLE_TIMEOUT", "5m"}, {"FERRY_DEADLINE", "10m"}};
    f.request.poll_interval = std::chrono::milliseconds(50);
    f.request.policy.deadlines.resolve = std::chrono::seconds(30);
    f.request.policy.deadlines.ready = std::chrono::seconds(30);
    f.request.agent_health = [this](const std::string& endpoint) -> Result<std::string> {
      HttpRequest request;
      request.url = endpoint + "/v1/health";
      auto response = client_.send(request);
      if (!response) return fail(response.error());
      json body = json::parse(response->body, nullptr, false);
      if (!body.is_object() || !body.contains("status")) return fail(ErrorCode::unavailable, "no status yet");
      return body["status"].get<std::string>();
    };
    RunRecord run;
    run.id = run_id;
    run.provider = GetParam();
    run.started_at = now_unix();
    EXPECT_TRUE(f.store->create_run(run));
    return f;
  }

  std::vector<std::string> recorded_states(StateStore& store, const std::string& run_id) {
    std::vector<std::string> states;
    auto instances = store.list_instances(run_id);  // named: a range-for over a temporary's value() dangles
    EXPECT_TRUE(instances);
    if (!instances) return states;
    for (const auto& instance : *instances) states.push_back(instance.state);
    return states;
  }
};

TEST_P(InstanceDriverOnFakecloud, BringsUpAReadyAgentAndConfirmsItGone) {
  Fixture f = fixture("run-happy");
  InstanceDriver driver(*f.cloud, *f.store, f.request);
  ASSERT_TRUE(driver.bring_up()) << driver.lifecycle().error()->message;
  EXPECT_FALSE(driver.endpoint().empty());
  EXPECT_EQ(live_instances().size(), 1u);
  EXPECT_EQ(recorded_states(*f.store, "run-happy"), std::vector<std::string>{"running"});
  driver.work_done();
  ASSERT_TRUE(driver.tear_down());
  EXPECT_EQ(driver.lifecycle().outcome(), Outcome::succeeded);
  EXPECT_TRUE(live_instances().empty());
  EXPECT_EQ(recorded_states(*f.store, "run-happy"), std::vector<std::string>{"destroyed"});
}

TEST_P(InstanceDriverOnFakecloud, FailsOverWhenTheOfferVanishesAndLeavesNothingBilling) {
  Fixture f = fixture("run-vanish");
  ASSERT_GE(f.request.ranked_offers.size(), 2u);
  control("/_fake/faults", R"({"vanish_offers": 1})");
  InstanceDriver driver(*f.cloud, *f.store, f.request);
  ASSERT_TRUE(driver.bring_up()) << driver.lifecycle().error()->message;
  EXPECT_EQ(driver.lifecycle().offers_tried(), 2u);
  driver.work_done();
  ASSERT_TRUE(driver.tear_down());
  EXPECT_TRUE(live_instances().empty());
}

TEST_P(InstanceDriverOnFakecloud, FailsOverWhenTheInstanceExitsAtBoot) {
  Fixture f = fixture("run-exit");
  ASSERT_GE(f.request.ranked_offers.size(), 2u);
  control("/_fake/faults", R"({"exit_instances": 1})");
  InstanceDriver driver(*f.cloud, *f.store, f.request);
  ASSERT_TRUE(driver.bring_up()) << driver.lifecycle().error()->message;
  EXPECT_EQ(driver.lifecycle().offers_tried(), 2u);
  driver.work_done();
  ASSERT_TRUE(driver.tear_down());
  EXPECT_TRUE(live_instances().empty());
  EXPECT_EQ(recorded_states(*f.store, "run-exit"), (std::vector<std::string>{"destroyed", "destroyed"}));
}

TEST_P(InstanceDriverOnFakecloud, TeardownSurvivesADestroyThatFailsTwice) {
  Fixture f = fixture("run-flaky");
  InstanceDriver driver(*f.cloud, *f.store, f.request);
  ASSERT_TRUE(driver.bring_up());
  control("/_fake/faults", R"({"destroy_failures": 2})");
  driver.work_failed(Error{ErrorCode::unavailable, "the work failed", {}});
  ASSERT_TRUE(driver.tear_down());
  EXPECT_EQ(driver.lifecycle().outcome(), Outcome::failed);
  EXPECT_TRUE(live_instances().empty());
}

TEST_P(InstanceDriverOnFakecloud, StopRequestedWhileStartingTearsDown) {
  Fixture f = fixture("run-stop");
  int asked = 0;
  // Stop once the instance exists: the third question comes after the create.
  f.request.stop_reason = [&]() -> std::optional<Error> {
    if (++asked < 3) return std::nullopt;
    return Error{ErrorCode::cancelled, "interrupted", {}};
  };
  InstanceDriver driver(*f.cloud, *f.store, f.request);
  auto up = driver.bring_up();
  ASSERT_FALSE(up);
  EXPECT_EQ(up.error().code, ErrorCode::cancelled);
  EXPECT_EQ(driver.lifecycle().stage(), Stage::closed);
  EXPECT_TRUE(live_instances().empty());
  EXPECT_EQ(control("/_fake/ledger")["instances"].size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Providers, InstanceDriverOnFakecloud, ::testing::Values("vast", "runpod", "fly"),
                         [](const auto& info) { return info.param; });

TEST_P(CloudCommands, GcLeavesNothingAfterAControllerIsKilledAtRandomPoints) {
  // Seeded per provider so a failure can be replayed; the points cover the
  // create call, the boot and the wait for the agent.
  std::mt19937 random(static_cast<unsigned>(std::hash<std::string>{}(GetParam())));
  std::uniform_int_distribution<int> kill_after_ms(0, 1200);
  for (int round = 0; round < 4; ++round) {
    std::string run_id = "run-killed-" + std::to_string(round);
    test::ChildProcess::Options options;
    options.argv = {BRING_UP_TOOL, GetParam(), state_dir().string(), run_id};
    options.stderr_path = dir_ / (run_id + ".err");
    test::ChildProcess controller(options);
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms(random)));
    controller.kill_and_wait();
    // Let the emulator finish a create request the dead controller sent.
    std::this_thread::sleep_for(200ms);
    CommandResult gc = ferry({"gc", "--yes"});
    EXPECT_EQ(gc.exit_status, 0) << gc.err;
    EXPECT_TRUE(live_instances().empty()) << "round " << round << ": " << gc.out << gc.err;
  }
  json ledger = control("/_fake/ledger");
  EXPECT_FALSE(ledger["instances"].empty()) << "no kill came after a create: the test proved nothing";
}

INSTANTIATE_TEST_SUITE_P(Providers, CloudCommands, ::testing::Values("vast", "runpod", "fly"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ferry::controller
