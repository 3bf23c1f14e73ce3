// `ferry run` on vast, runpod and fly against fakecloud, whose instances are
// real ferry-agent processes: the real ferry binary with the FERRY_*_API_URL
// overrides, every fault the emulator offers, Ctrl-C, budget, a SIGKILLed
// controller. After each scenario the emulator's ledger says which
// instances still bill: none may.

#include <gtest/gtest.h>
#include <signal.h>

#include <cmath>
#include <numbers>
#include <sstream>
#include <cstdint>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/http_client.hpp"
#include "tests/support/fakecloud.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/raw_http.hpp"

namespace ferry {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

struct CommandResult {
  int exit_status = -1;
  std::string out;
  std::string err;
};

// A mono 16-bit PCM WAV of a sine tone.
std::string wav_tone(double seconds, int rate = 16000) {
  const auto frames = static_cast<std::uint32_t>(seconds * rate);
  std::string data;
  for (std::uint32_t i = 0; i < frames; ++i) {
    auto sample = static_cast<std::int16_t>(8000 * std::sin(2 * std::numbers::pi * 440.0 * i / rate));
    data.push_back(static_cast<char>(sample & 0xff));
    data.push_back(static_cast<char>((sample >> 8) & 0xff));
  }
  auto u32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 24)};
  };
  auto u16 = [](std::uint16_t v) { return std::string{static_cast<char>(v), static_cast<char>(v >> 8)}; };
  return "RIFF" + u32(36 + static_cast<std::uint32_t>(data.size())) + "WAVEfmt " + u32(16) + u16(1) + u16(1) +
         u32(rate) + u32(rate * 2) + u16(2) + u16(16) + "data" + u32(static_cast<std::uint32_t>(data.size())) + data;
}

// "budget: 0.00048889\n" with enough digits for sub-cent budgets.
std::string fmt_budget(double dollars) {
  std::ostringstream text;
  text.precision(8);
  text << std::fixed << "budget: " << dollars << "\n";
  return text.str();
}

// Serves a WAV slowly: `total` spread over its bytes, or forever (never
// finishing the body) when `endless`. Keeps a job running on the agent.
class SlowSource {
 public:
  SlowSource(std::chrono::milliseconds total, bool endless)
      : body_(wav_tone(2.0)),
        server_([this, total, endless](const std::string&, test::RawConnection& client,
                                       const std::atomic<bool>& stopping) {
          if (!client.send("HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: " +
                           std::to_string(endless ? body_.size() * 1000 : body_.size()) + "\r\n\r\n"))
            return;
          constexpr std::size_t kPieces = 40;
          const std::size_t piece = body_.size() / kPieces + 1;
          for (std::size_t sent = 0; sent < body_.size() && !stopping; sent += piece) {
            if (!client.send(body_.substr(sent, piece))) return;
            std::this_thread::sleep_for(total / kPieces);
          }
          while (endless && !stopping && client.send(std::string(64, '\0'))) std::this_thread::sleep_for(50ms);
        }) {}

  std::string url(const std::string& name) const { return server_.url("/" + name); }

 private:
  std::string body_;
  test::ScriptedHttpServer server_;
};

class CloudRun : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    http_global_init();
    ASSERT_TRUE(fakecloud_.start(FAKECLOUD_BIN, FERRY_AGENT_BIN, dir_.path()));
    control("/_fake/faults", R"({"boot_ms": 100})");
    env_ = fakecloud_.client_environment(dir_ / "state");
    // Short polls and deadlines keep the scenarios quick.
    env_["FERRY_POLL_INTERVAL"] = "100ms";
    env_["FERRY_START_TIMEOUT"] = "20s";
    env_["FERRY_DESTROY_TIMEOUT"] = "10s";
    test::write_text(dir_ / "one.wav", wav_tone(1.0));
    test::write_text(dir_ / "two.wav", wav_tone(1.5));
  }

  void TearDown() override {
    // Whatever happened, nothing may be left billing.
    if (fakecloud_.base().empty()) return;
    EXPECT_TRUE(live_instances().empty()) << "instances left billing after the scenario";
    fakecloud_.stop();
  }

  json control(const std::string& path, const std::string& body = {}) { return fakecloud_.control(path, body); }

  /// Ledger ids of the instances that still bill.
  std::vector<std::string> live_instances() {
    std::vector<std::string> live;
    json ledger = control("/_fake/ledger");  // named: a range-for over a temporary's member dangles
    for (const auto& row : ledger["instances"])
      if (row["destroyed_at"].is_null()) live.push_back(row["id"]);
    return live;
  }

  std::size_t instances_created() { return control("/_fake/ledger")["instances"].size(); }

  /// A manifest for this provider: `jobs` is the YAML list under `jobs:`.
  fs::path manifest(const std::string& jobs, const std::string& extra = {}) {
    std::string yaml = "name: cloud\nprovider: " + GetParam() +
                       "\nimage: ghcr.io/example/ferry-agent:cpu\noutput: ./results\n";
    // Vast and RunPod rent GPUs; Fly has CPU machines only.
    if (GetParam() != "fly") yaml += "resources:\n  gpu: {count: 1}\n";
    yaml += extra + "jobs:\n" + jobs;
    test::write_text(dir_ / "cloud.yaml", yaml);
    return dir_ / "cloud.yaml";
  }

  test::ChildProcess::Options ferry_options(const std::vector<std::string>& args, const std::string& tag) {
    test::ChildProcess::Options options;
    options.argv = {FERRY_BIN};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.env = env_;
    options.stdout_path = dir_ / (tag + ".out");
    options.stderr_path = dir_ / (tag + ".err");
    return options;
  }

  CommandResult ferry(const std::vector<std::string>& args) {
    std::string tag = "ferry-" + std::to_string(++calls_);
    test::ChildProcess process(ferry_options(args, tag));
    auto status = process.wait_for_exit(90s);
    return CommandResult{status.value_or(-1), test::read_text(dir_ / (tag + ".out")),
                         test::read_text(dir_ / (tag + ".err"))};
  }

  json status() { return json::parse(ferry({"status", "--json"}).out, nullptr, false); }

  /// Waits until the newest run has `count` jobs the agents hold (queued or running).
  bool wait_for_jobs_on_agents(std::size_t count, std::chrono::seconds timeout) {
    return test::wait_until(
        [&] {
          json runs = status();
          if (!runs.is_array() || runs.empty()) return false;
          std::size_t held = 0;
          for (const auto& job : runs[0]["jobs"])
            if (job["state"] == "running" || job["state"] == "queued") ++held;
          return held >= count;
        },
        timeout);
  }

  test::TempDir dir_{"ferry-cloud-run"};
  test::RunningFakecloud fakecloud_;
  std::map<std::string, std::string> env_;
  int calls_ = 0;
};

TEST_P(CloudRun, RunsJobsThroughFlakyApisAndLeavesNothingBilling) {
  // The first offer vanishes, the API answers 429s and 503s, the port shows
  // late and the destroy fails twice: the run still completes.
  // (Fly's first call is the create itself, which a 5xx must not repeat:
  // AServerErrorOnEveryCallEndsTheRunClearly covers that.)
  control("/_fake/faults", GetParam() == "fly"
                               ? R"({"vanish_offers": 1, "rate_limit": 2, "ports_late_ms": 700, "destroy_failures": 2})"
                               : R"({"vanish_offers": 1, "rate_limit": 2, "server_errors": 1, "ports_late_ms": 700,
                                    "destroy_failures": 2})");
  auto run = ferry({"run", manifest("  - convert: {inputs: ['*.wav'], format: flac}\n").string(), "--yes", "--json"});
  ASSERT_EQ(run.exit_status, 0) << run.err;
  json summary = json::parse(run.out);
  EXPECT_EQ(summary["state"], "succeeded");
  ASSERT_EQ(summary["jobs"].size(), 2u);
  for (const auto& job : summary["jobs"]) {
    ASSERT_EQ(job["state"], "succeeded") << job.dump();
    ASSERT_EQ(job["outputs"].size(), 1u);
    fs::path output = job["outputs"][0].get<std::string>();
    EXPECT_EQ(output.parent_path(), dir_ / "results");
    EXPECT_EQ(output.extension(), ".flac");
    EXPECT_EQ(test::read_text(output).substr(0, 4), "fLaC") << output;
  }
  EXPECT_NE(run.err.find("trying the next offer"), std::string::npos) << run.err;
  EXPECT_GT(summary["cost"].get<double>(), 0.0);
  EXPECT_TRUE(live_instances().empty());

  json runs = status();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["state"], "succeeded");
  json instances = runs[0]["instances"];
  ASSERT_FALSE(instances.empty());
  const json& used = instances.back();
  EXPECT_EQ(used["state"], "destroyed");
  EXPECT_GT(used["price_per_hour"].get<double>(), 0.0);
  EXPECT_GE(runs[0]["cost"].get<double>(), 0.0);
  CommandResult table = ferry({"status"});
  EXPECT_NE(table.out.find("Total cost so far"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(used["id"].get<std::string>()), std::string::npos) << table.out;
}

TEST_P(CloudRun, SpreadsJobsOverTwoInstancesAndMovesTheJobOfOneThatDies) {
  SlowSource source(3s, false);
  auto manifest_path =
      manifest("  - convert: {inputs: ['" + source.url("a.wav") + "', '" + source.url("b.wav") + "'], format: flac}\n",
               "instances: 2\n");
  test::ChildProcess run(ferry_options({"run", manifest_path.string(), "--yes", "--json"}, "spread"));
  ASSERT_TRUE(wait_for_jobs_on_agents(2, 60s)) << test::read_text(dir_ / "spread.err");
  auto live = live_instances();
  ASSERT_EQ(live.size(), 2u) << "one job per instance while both run";
  control("/_fake/instances/" + live.front() + "/kill", "{}");

  auto exit_status = run.wait_for_exit(90s);
  std::string err = test::read_text(dir_ / "spread.err");
  ASSERT_EQ(exit_status, 0) << err;
  EXPECT_NE(err.find("Moving the job"), std::string::npos) << err;
  json summary = json::parse(test::read_text(dir_ / "spread.out"));
  for (const auto& job : summary["jobs"]) EXPECT_EQ(job["state"], "succeeded") << job.dump();
  EXPECT_TRUE(fs::exists(dir_ / "results" / "a.flac"));
  EXPECT_TRUE(fs::exists(dir_ / "results" / "b.flac"));
  EXPECT_EQ(instances_created(), 2u);
}

TEST_P(CloudRun, AnAgentKilledMidJobWithNoOtherInstanceFailsTheJobNamingTheInstance) {
  if (GetParam() != "runpod") GTEST_SKIP() << "the two-instance test kills agents on every provider";
  SlowSource source(1s, true);
  auto path = manifest("  - convert: {inputs: ['" + source.url("long.wav") + "'], format: flac}\n");
  test::ChildProcess run(ferry_options({"run", path.string(), "--yes"}, "killed-agent"));
  ASSERT_TRUE(wait_for_jobs_on_agents(1, 60s)) << test::read_text(dir_ / "killed-agent.err");
  auto live = live_instances();
  ASSERT_EQ(live.size(), 1u);
  control("/_fake/instances/" + live.front() + "/kill", "{}");
  auto exit_status = run.wait_for_exit(60s);
  std::string err = test::read_text(dir_ / "killed-agent.err");
  EXPECT_EQ(exit_status, 1) << err;
  EXPECT_NE(err.find("instance " + live.front() + " stopped while jobs ran"), std::string::npos) << err;
  json runs = status();
  EXPECT_EQ(runs[0]["jobs"][0]["state"], "failed");
  EXPECT_NE(runs[0]["jobs"][0]["error"].get<std::string>().find(live.front()), std::string::npos);
}

TEST_P(CloudRun, InstancesStuckLoadingOrStoppingAtBootAreReplaced) {
  env_["FERRY_START_TIMEOUT"] = "3s";
  if (GetParam() == "runpod") {
    // RunPod offers are GPU types, each tried once: add a third one.
    json offers = control("/_fake/offers");
    json extra = offers["runpod"][0];
    extra["id"] = "NVIDIA RTX A6000";
    extra["name"] = "RTX A6000";
    offers["runpod"].push_back(extra);
    control("/_fake/offers", json{{"runpod", offers["runpod"]}}.dump());
  }
  // Vast instances may also end offline.
  control("/_fake/faults", GetParam() == "vast" ? R"({"stuck_loading": 1, "offline_instances": 1})"
                                                : R"({"stuck_loading": 1, "exit_instances": 1})");
  auto run = ferry({"run", manifest("  - convert: {inputs: [one.wav], format: flac}\n").string(), "--yes"});
  ASSERT_EQ(run.exit_status, 0) << run.err;
  EXPECT_TRUE(fs::exists(dir_ / "results" / "one.flac"));
  EXPECT_EQ(instances_created(), 3u);
  EXPECT_NE(run.err.find("not running with a reachable port within 3 s"), std::string::npos) << run.err;
}

TEST_P(CloudRun, AServerErrorOnEveryCallEndsTheRunClearly) {
  control("/_fake/faults", R"({"server_errors": 100000})");
  auto run = ferry({"run", manifest("  - convert: {inputs: [one.wav], format: flac}\n").string(), "--yes"});
  EXPECT_EQ(run.exit_status, 5) << run.err;
  EXPECT_NE(run.err.find("error: " + GetParam() + ": "), std::string::npos) << "names the provider: " << run.err;
  EXPECT_NE(run.err.find("HTTP 503"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("try again later"), std::string::npos) << "says what to do: " << run.err;
  EXPECT_EQ(instances_created(), 0u);
}

TEST_P(CloudRun, ADestroyThatNeverSucceedsExitsSevenNamingTheInstanceAndDownCleansUp) {
  env_["FERRY_DESTROY_TIMEOUT"] = "2s";
  control("/_fake/faults", R"({"destroy_failures": 100000})");
  auto run = ferry({"run", manifest("  - convert: {inputs: [one.wav], format: flac}\n").string(), "--yes"});
  EXPECT_EQ(run.exit_status, 7) << run.err;
  auto live = live_instances();
  ASSERT_EQ(live.size(), 1u) << run.err << control("/_fake/ledger").dump();
  EXPECT_NE(run.err.find(live.front()), std::string::npos) << "the instance is named: " << run.err;
  EXPECT_NE(run.err.find("ferry down"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find(GetParam() + " console"), std::string::npos) << run.err;
  EXPECT_TRUE(fs::exists(dir_ / "results" / "one.flac")) << "the results came home before the teardown";
  json runs = status();
  EXPECT_EQ(runs[0]["state"], "teardown_failed");
  EXPECT_EQ(runs[0]["instances"].back()["state"], "destroy_failed");

  control("/_fake/faults", R"({"destroy_failures": 0})");
  auto down = ferry({"down", runs[0]["id"].get<std::string>()});
  EXPECT_EQ(down.exit_status, 0) << down.err;
  EXPECT_TRUE(live_instances().empty());
}

TEST_P(CloudRun, KeepLeavesTheAgentUpForGcToSpareAndDownToStop) {
  auto run = ferry({"run", manifest("  - convert: {inputs: [one.wav], format: flac}\n").string(), "--yes", "--keep",
                    "--json"});
  ASSERT_EQ(run.exit_status, 0) << run.err;
  EXPECT_TRUE(fs::exists(dir_ / "results" / "one.flac"));
  json summary = json::parse(run.out);
  const std::string endpoint = summary.value("endpoint", "");
  ASSERT_FALSE(endpoint.empty()) << run.out;
  auto live = live_instances();
  ASSERT_EQ(live.size(), 1u) << "kept, so still billing: " << control("/_fake/ledger").dump();
  HttpClient client;
  HttpRequest health;
  health.url = endpoint + "/healthz";
  auto answered = client.send(health);
  ASSERT_TRUE(answered) << answered.error().message;
  EXPECT_EQ(answered->status, 200) << "the kept agent still answers at " << endpoint;
  json runs = status();
  EXPECT_EQ(runs[0]["instances"].back()["state"], "kept");

  // gc leaves what the user kept; down is how it ends.
  auto gc = ferry({"gc", "--yes"});
  EXPECT_EQ(gc.exit_status, 0) << gc.err;
  EXPECT_EQ(live_instances(), live) << gc.out << gc.err;
  EXPECT_NE(gc.out.find("kept"), std::string::npos) << gc.out;
  auto down = ferry({"down", runs[0]["id"].get<std::string>()});
  EXPECT_EQ(down.exit_status, 0) << down.err;
  EXPECT_TRUE(live_instances().empty());
  EXPECT_EQ(status()[0]["instances"].back()["state"], "destroyed");
}

TEST_P(CloudRun, InterruptCancelsTheJobAndTearsDown) {
  SlowSource source(1s, true);
  auto manifest_path = manifest("  - convert: {inputs: ['" + source.url("long.wav") + "'], format: flac}\n");
  test::ChildProcess run(ferry_options({"run", manifest_path.string(), "--yes"}, "interrupt"));
  ASSERT_TRUE(wait_for_jobs_on_agents(1, 60s)) << test::read_text(dir_ / "interrupt.err");
  run.signal(SIGINT);
  auto exit_status = run.wait_for_exit(60s);
  std::string err = test::read_text(dir_ / "interrupt.err");
  EXPECT_EQ(exit_status, 130) << err;
  EXPECT_TRUE(live_instances().empty()) << err;
  json runs = status();
  EXPECT_EQ(runs[0]["state"], "interrupted");
  EXPECT_EQ(runs[0]["jobs"][0]["state"], "canceled");
  EXPECT_EQ(runs[0]["instances"].back()["state"], "destroyed");
}

TEST_P(CloudRun, BudgetTearsDownBeforeItIsSpent) {
  SlowSource source(1s, true);
  const std::string jobs = "  - convert: {inputs: ['" + source.url("long.wav") + "'], format: flac}\n";
  auto plan = ferry({"run", manifest(jobs).string(), "--dry-run", "--json"});
  ASSERT_EQ(plan.exit_status, 0) << plan.err;
  double price = json::parse(plan.out)["machines"]["instances"][0]["offer"]["price_per_hour"];
  // Eight seconds of the instance: enough to start it and begin the job.
  double budget = price * 8 / 3600;
  auto run = ferry({"run", manifest(jobs, fmt_budget(budget)).string(), "--yes"});
  EXPECT_EQ(run.exit_status, 6) << run.err;
  EXPECT_NE(run.err.find("budget"), std::string::npos) << run.err;
  EXPECT_TRUE(live_instances().empty());
  json ledger = control("/_fake/ledger");
  EXPECT_EQ(ledger["instances"].size(), 1u);
  EXPECT_LT(ledger["total_cost"].get<double>(), budget) << "torn down before the budget was spent";
  json runs = status();
  EXPECT_EQ(runs[0]["jobs"][0]["state"], "canceled");
}

TEST_P(CloudRun, MaxDurationTearsDownBeforeItPasses) {
  if (GetParam() != "vast") GTEST_SKIP() << "the limit is the controller's: one provider shows it";
  SlowSource source(1s, true);
  auto run = ferry({"run",
                    manifest("  - convert: {inputs: ['" + source.url("long.wav") + "'], format: flac}\n",
                             "max_duration: 8s\n")
                        .string(),
                    "--yes"});
  EXPECT_EQ(run.exit_status, 6) << run.err;
  EXPECT_NE(run.err.find("max_duration 8s reached"), std::string::npos) << run.err;
  json ledger = control("/_fake/ledger");
  ASSERT_EQ(ledger["instances"].size(), 1u);
  const json& instance = ledger["instances"][0];
  ASSERT_FALSE(instance["destroyed_at"].is_null());
  EXPECT_LT(instance["destroyed_at"].get<double>() - instance["created_at"].get<double>(), 8.0);
}

TEST_P(CloudRun, DryRunPrintsTheMachinesAndTheEstimatedCostAndCreatesNothing) {
  auto path = manifest("  - convert: {inputs: ['*.wav'], format: flac}\n", "instances: 2\nbudget: 5\n");
  auto plan = ferry({"run", path.string(), "--dry-run", "--json"});
  ASSERT_EQ(plan.exit_status, 0) << plan.err;
  json machines = json::parse(plan.out)["machines"];
  EXPECT_EQ(machines["provider"], GetParam());
  ASSERT_EQ(machines["instances"].size(), 2u);
  EXPECT_EQ(machines["instances"][0]["jobs"].get<int>() + machines["instances"][1]["jobs"].get<int>(), 2);
  double expected = machines["estimate"]["expected_cost"];
  EXPECT_GT(expected, 0.0);
  EXPECT_LE(expected, machines["estimate"]["at_most"].get<double>());
  EXPECT_NE(machines["estimate"]["duration_method"].get<std::string>().find("start-up"), std::string::npos);

  auto text = ferry({"run", path.string(), "--dry-run"});
  ASSERT_EQ(text.exit_status, 0) << text.err;
  EXPECT_NE(text.out.find("Estimated cost: $"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("instance 2: offer"), std::string::npos) << text.out;
  EXPECT_EQ(instances_created(), 0u);
  EXPECT_FALSE(fs::exists(dir_ / "results"));
}

TEST_P(CloudRun, DryRunAfterARunEstimatesFromThatRunsHistoryAndSaysSo) {
  test::write_text(dir_ / "three.wav", wav_tone(0.5));
  const auto path = manifest("  - convert: {inputs: ['*.wav'], format: flac}\n", "instances: 3\n");
  // The catalogue as it is before the run rents from it, for a like-for-like second plan.
  const json catalogue = control("/_fake/offers");
  auto cold = ferry({"run", path.string(), "--dry-run", "--json"});
  ASSERT_EQ(cold.exit_status, 0) << cold.err;
  const json cold_estimate = json::parse(cold.out)["machines"]["estimate"];
  EXPECT_EQ(cold_estimate["startup_basis"]["source"], "default");
  EXPECT_EQ(cold_estimate["startup_basis"]["samples"], 0);
  EXPECT_EQ(cold_estimate["job_times"]["convert"]["source"], "default");
  EXPECT_FALSE(fs::exists(dir_ / "state" / "ferry" / "state.db")) << "a dry run on a fresh machine writes nothing";

  auto run = ferry({"run", path.string(), "--yes", "--json"});
  ASSERT_EQ(run.exit_status, 0) << run.err;
  ASSERT_EQ(instances_created(), 3u);
  control("/_fake/offers", catalogue.dump());

  auto warm = ferry({"run", path.string(), "--dry-run", "--json"});
  ASSERT_EQ(warm.exit_status, 0) << warm.err;
  const json estimate = json::parse(warm.out)["machines"]["estimate"];
  EXPECT_EQ(estimate["startup_basis"]["source"], "history");
  EXPECT_EQ(estimate["startup_basis"]["samples"], 3) << "every instance of the run came up and was torn down";
  EXPECT_EQ(estimate["job_times"]["convert"]["source"], "history");
  EXPECT_EQ(estimate["job_times"]["convert"]["samples"], 3);
  EXPECT_GT(estimate["job_times"]["convert"]["factor"].get<double>(), 0.0);
  // The emulator's instances live seconds, where the default allows minutes.
  EXPECT_GT(estimate["startup_seconds"].get<double>(), 0.0);
  EXPECT_LT(estimate["startup_seconds"].get<double>(), cold_estimate["startup_seconds"].get<double>());
  EXPECT_LT(estimate["expected_cost"].get<double>(), cold_estimate["expected_cost"].get<double>());

  auto text = ferry({"run", path.string(), "--dry-run"});
  ASSERT_EQ(text.exit_status, 0) << text.err;
  EXPECT_NE(text.out.find("mean of 3 past " + GetParam() + " instances"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("convert: "), std::string::npos) << text.out;
  EXPECT_EQ(instances_created(), 3u) << "the dry runs rented nothing";
}

TEST_P(CloudRun, WithoutYesAndWithoutATerminalNothingIsRented) {
  auto run = ferry({"run", manifest("  - convert: {inputs: [one.wav], format: flac}\n").string()});
  EXPECT_EQ(run.exit_status, 2) << run.err;
  EXPECT_NE(run.err.find("--yes"), std::string::npos) << run.err;
  EXPECT_EQ(instances_created(), 0u);
}

TEST_P(CloudRun, GcLeavesNothingAfterRunIsKilledAtRandomPoints) {
  SlowSource source(1s, true);
  auto path = manifest("  - convert: {inputs: ['" + source.url("long.wav") + "'], format: flac}\n");
  // Seeded per provider so that a failure can be replayed.
  std::mt19937 random(static_cast<unsigned>(std::hash<std::string>{}(GetParam())));
  std::uniform_int_distribution<int> kill_after_ms(0, 4000);
  for (int round = 0; round < 3; ++round) {
    std::string tag = "killed-" + std::to_string(round);
    test::ChildProcess run(ferry_options({"run", path.string(), "--yes"}, tag));
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms(random)));
    run.kill_and_wait();
    // Let the emulator finish a create the dead controller sent.
    std::this_thread::sleep_for(300ms);
    auto gc = ferry({"gc", "--yes"});
    EXPECT_EQ(gc.exit_status, 0) << gc.err;
    EXPECT_TRUE(live_instances().empty()) << "round " << round << ": " << gc.out << gc.err;
  }
  EXPECT_GT(instances_created(), 0u) << "no kill came after a create: the test proved nothing";
}

INSTANTIATE_TEST_SUITE_P(Providers, CloudRun, ::testing::Values("vast", "runpod", "fly"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ferry
