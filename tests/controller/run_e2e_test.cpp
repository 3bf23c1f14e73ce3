// End-to-end: the real `ferry` binary running manifests on the `local`
// provider, which starts the real `ferry-agent`. Media inputs are made with
// the ffmpeg CLI; outputs are checked with ffprobe.

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/raw_http.hpp"

namespace ferry {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string command_output(const std::string& command) {
  std::string output;
  if (std::FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    std::size_t got;
    while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, got);
    ::pclose(pipe);
  }
  return output;
}

bool ffmpeg_available() {
  static const bool available =
      std::system("ffmpeg -version >/dev/null 2>&1 && ffprobe -version >/dev/null 2>&1") == 0;
  return available;
}

void make_media(const std::string& arguments) {
  std::string command = "ffmpeg -nostdin -loglevel error -y " + arguments;
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

struct Probe {
  std::string audio_codec;
  bool has_video = false;
  double duration = 0;
};

Probe probe(const fs::path& file) {
  auto parsed = json::parse(command_output("ffprobe -v error -show_entries stream=codec_type,codec_name:format=duration "
                                           "-of json '" + file.string() + "'"),
                            nullptr, false);
  Probe result;
  if (!parsed.is_object()) return result;
  for (const auto& stream : parsed.value("streams", json::array())) {
    if (stream.value("codec_type", "") == "audio") result.audio_codec = stream.value("codec_name", "");
    if (stream.value("codec_type", "") == "video") result.has_video = true;
  }
  result.duration = std::stod(parsed["format"].value("duration", "0"));
  return result;
}

// ferry-agent processes whose command line mentions `needle` (the test's
// temporary folder, under which every agent of the test keeps its files).
std::vector<int> agents_mentioning(const std::string& needle) {
  std::vector<int> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find("ferry-agent") != std::string::npos && cmdline.find(needle) != std::string::npos) {
      std::ifstream stat(entry.path() / "stat");
      std::string line;
      std::getline(stat, line);
      auto close = line.rfind(')');
      if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z') continue;
      found.push_back(std::stoi(name));
    }
  }
  return found;
}

class FerryRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ffmpeg_available()) GTEST_SKIP() << "the ffmpeg and ffprobe CLIs are needed";
    fs::create_directories(dir_ / "tmp");
  }

  void TearDown() override {
    EXPECT_TRUE(agents_mentioning(dir_.path().string()).empty()) << "a ferry-agent was left running";
  }

  std::map<std::string, std::string> environment() const {
    return test::local_ferry_environment(dir_.path(), agent_binary_);
  }

  std::unique_ptr<test::ChildProcess> start_ferry(const std::vector<std::string>& arguments, const std::string& tag) {
    test::ChildProcess::Options options;
    options.argv = {FERRY_BIN};
    options.argv.insert(options.argv.end(), arguments.begin(), arguments.end());
    options.env = environment();
    options.stdout_path = dir_ / (tag + ".out");
    options.stderr_path = dir_ / (tag + ".err");
    return std::make_unique<test::ChildProcess>(options);
  }

  Outcome ferry(const std::vector<std::string>& arguments) {
    std::string tag = "call" + std::to_string(++calls_);
    auto child = start_ferry(arguments, tag);
    auto status = child->wait_for_exit(std::chrono::seconds(90));
    if (!status) child->kill_and_wait();
    return Outcome{status.value_or(-1), test::read_text(dir_ / (tag + ".out")), test::read_text(dir_ / (tag + ".err"))};
  }

  fs::path write_manifest(const std::string& yaml) {
    test::write_text(dir_ / "jobs.yaml", yaml);
    return dir_ / "jobs.yaml";
  }

  // Replaces the agent by a shell script.
  void use_agent_script(const std::string& body) {
    test::write_text(dir_ / "script-agent", "#!/bin/sh\n" + body);
    fs::permissions(dir_ / "script-agent", fs::perms::owner_all);
    agent_binary_ = (dir_ / "script-agent").string();
  }
  // An agent that only leaves a mark, to prove it was never started.
  void use_marking_agent() { use_agent_script("touch '" + (dir_ / "agent-started").string() + "'\n"); }

  test::TempDir dir_{"ferry-run-e2e"};
  std::string agent_binary_ = FERRY_AGENT_BIN;
  int calls_ = 0;
};

TEST_F(FerryRunTest, ConvertsWavMp3AndMp4ToMp3AndToFlacSegments) {
  make_media("-f lavfi -i sine=frequency=440:duration=3 '" + (dir_ / "tone.wav").string() + "'");
  make_media("-f lavfi -i sine=frequency=220:duration=3 -c:a libmp3lame '" + (dir_ / "low.mp3").string() + "'");
  make_media("-f lavfi -i testsrc=size=64x64:rate=10:duration=3 -f lavfi -i sine=duration=3 -c:v mpeg4 -c:a aac "
             "-shortest '" + (dir_ / "clip.mp4").string() + "'");
  ASSERT_TRUE(probe(dir_ / "clip.mp4").has_video);
  auto manifest = write_manifest(R"(name: e2e
output: ./results
jobs:
  - convert: {inputs: ["*.wav", low.mp3, clip.mp4], format: mp3}
  - convert: {inputs: ["*.wav", low.mp3, clip.mp4], format: flac, segment: 2s}
)");
  auto run = ferry({"run", manifest.string(), "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto summary = json::parse(run.out);
  EXPECT_EQ(summary["state"], "succeeded");
  ASSERT_EQ(summary["jobs"].size(), 6u);
  std::set<std::string> local_names;
  for (const auto& job : summary["jobs"]) {
    ASSERT_EQ(job["state"], "succeeded") << job.dump();
    bool to_mp3 = job["summary"] == "mp3";
    ASSERT_EQ(job["outputs"].size(), to_mp3 ? 1u : 2u) << job.dump();
    double total = 0;
    for (const auto& output : job["outputs"]) {
      fs::path file = output.get<std::string>();
      EXPECT_EQ(file.parent_path(), dir_ / "results");
      ASSERT_TRUE(fs::exists(file)) << file;
      EXPECT_TRUE(local_names.insert(file.filename()).second) << "two jobs wrote " << file;
      auto probed = probe(file);
      EXPECT_EQ(probed.audio_codec, to_mp3 ? "mp3" : "flac") << file;
      EXPECT_FALSE(probed.has_video) << file;
      if (!to_mp3) {
        EXPECT_LE(probed.duration, 2.1) << file;
      }
      total += probed.duration;
    }
    EXPECT_NEAR(total, 3.0, 0.2) << job.dump();
  }
  // Nothing half-written is left beside the results.
  for (const auto& entry : fs::directory_iterator(dir_ / "results"))
    EXPECT_NE(entry.path().filename().string().front(), '.') << entry.path();
  // The agent's work folder went with it.
  EXPECT_TRUE(fs::is_empty(dir_ / "tmp"));

  auto status = ferry({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  auto runs = json::parse(status.out);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["id"], summary["run_id"]);
  EXPECT_EQ(runs[0]["state"], "succeeded");
  EXPECT_EQ(runs[0]["jobs_done"], 6);
  EXPECT_EQ(runs[0]["jobs"].size(), 6u);
  ASSERT_EQ(runs[0]["instances"].size(), 1u);
  EXPECT_EQ(runs[0]["instances"][0]["state"], "destroyed");

  auto table = ferry({"status"});
  EXPECT_NE(table.out.find(summary["run_id"].get<std::string>()), std::string::npos);
  EXPECT_NE(table.out.find("6/6"), std::string::npos) << table.out;
}

TEST_F(FerryRunTest, PlainOutputListsResultPathsOnStdout) {
  make_media("-f lavfi -i sine=duration=1 '" + (dir_ / "a.wav").string() + "'");
  auto manifest = write_manifest("jobs:\n  - convert: {inputs: [a.wav], format: flac}\n");
  auto run = ferry({"run", manifest.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::string first_line = run.out.substr(0, run.out.find('\n'));
  EXPECT_EQ(fs::path(first_line).parent_path(), dir_ / "results");
  EXPECT_TRUE(fs::exists(first_line)) << run.out;
  EXPECT_NE(run.err.find("Plan for"), std::string::npos);  // progress and plan stay on stderr
}

TEST_F(FerryRunTest, JobThatFailsOnTheAgentExitsOneAndKeepsTheOthersResults) {
  make_media("-f lavfi -i sine=duration=1 '" + (dir_ / "good.wav").string() + "'");
  test::write_text(dir_ / "broken.wav", "this is not audio at all");
  auto manifest = write_manifest("jobs:\n  - convert: {inputs: [good.wav, broken.wav], format: mp3}\n");
  auto run = ferry({"run", manifest.string()});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_NE(run.err.find("broken.wav"), std::string::npos) << run.err;
  EXPECT_TRUE(fs::exists(dir_ / "results" / "good.mp3")) << run.out << run.err;
  auto status = json::parse(ferry({"status", "--json"}).out);
  EXPECT_EQ(status[0]["state"], "failed");
}

TEST_F(FerryRunTest, InvalidManifestExitsThreeWithItsLocation) {
  auto manifest = write_manifest("name: bad\njobs:\n  - convert: {inputs: [a.wav], format: ogg}\n");
  auto run = ferry({"run", manifest.string()});
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_NE(run.err.find("jobs.yaml:3:"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("ogg"), std::string::npos) << run.err;
}

TEST_F(FerryRunTest, MissingInputIsNamedAndStartsNoAgent) {
  use_marking_agent();
  auto manifest = write_manifest("jobs:\n  - convert: {inputs: [nowhere.wav], format: mp3}\n");
  auto run = ferry({"run", manifest.string()});
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_NE(run.err.find("nowhere.wav"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("does not exist"), std::string::npos) << run.err;
  EXPECT_FALSE(fs::exists(dir_ / "agent-started"));
}

TEST_F(FerryRunTest, DryRunPrintsThePlanAndStartsNoAgent) {
  use_marking_agent();
  test::write_text(dir_ / "a.wav", "x");
  test::write_text(dir_ / "b.wav", "x");
  auto manifest = write_manifest("name: dry\njobs:\n  - convert: {inputs: ['*.wav'], format: mp3}\n");
  auto run = ferry({"run", manifest.string(), "--dry-run", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto plan = json::parse(run.out);
  EXPECT_EQ(plan["name"], "dry");
  EXPECT_EQ(plan["jobs"].size(), 2u);
  EXPECT_EQ(plan["uploads"].size(), 2u);
  EXPECT_FALSE(fs::exists(dir_ / "agent-started"));
  EXPECT_FALSE(fs::exists(dir_ / "results"));
}

TEST_F(FerryRunTest, AgentThatDiesWhileStartingIsReportedWithItsLastWords) {
  use_agent_script("echo 'cannot open the models folder' >&2\nexit 1\n");
  test::write_text(dir_ / "a.wav", "x");
  auto manifest = write_manifest("jobs:\n  - convert: {inputs: [a.wav], format: mp3}\n");
  auto run = ferry({"run", manifest.string()});
  EXPECT_EQ(run.exit_code, 5) << run.err;
  EXPECT_NE(run.err.find("cannot open the models folder"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("exited with status 1"), std::string::npos) << run.err;
  auto runs = json::parse(ferry({"status", "--json"}).out);
  EXPECT_EQ(runs[0]["state"], "failed");
  EXPECT_EQ(runs[0]["instances"][0]["state"], "destroyed");
}

TEST_F(FerryRunTest, MissingAgentBinarySaysHowToFixIt) {
  agent_binary_ = (dir_ / "no-such-agent").string();
  test::write_text(dir_ / "a.wav", "x");
  auto manifest = write_manifest("jobs:\n  - convert: {inputs: [a.wav], format: mp3}\n");
  auto run = ferry({"run", manifest.string()});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("FERRY_AGENT_BIN"), std::string::npos) << run.err;
}

TEST_F(FerryRunTest, KeptAgentOutlivesTheRunUntilFerryDown) {
  make_media("-f lavfi -i sine=duration=1 '" + (dir_ / "a.wav").string() + "'");
  auto manifest = write_manifest("jobs:\n  - convert: {inputs: [a.wav], format: wav}\n");
  auto run = ferry({"run", manifest.string(), "--keep", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto summary = json::parse(run.out);
  std::string endpoint = summary.value("endpoint", "");
  EXPECT_EQ(endpoint.rfind("http://127.0.0.1:", 0), 0u) << run.out;
  EXPECT_NE(run.err.find(endpoint), std::string::npos);
  ASSERT_EQ(agents_mentioning(dir_.path().string()).size(), 1u);
  auto port = static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
  auto health = test::http_exchange(port, test::build_request("GET", "/healthz"));
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  auto down = ferry({"down", summary["run_id"].get<std::string>()});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  EXPECT_TRUE(test::wait_until([&] { return agents_mentioning(dir_.path().string()).empty(); },
                               std::chrono::seconds(10)));
  auto runs = json::parse(ferry({"status", "--json"}).out);
  EXPECT_EQ(runs[0]["instances"][0]["state"], "destroyed");
}

TEST_F(FerryRunTest, UnknownCommandLineOptionIsAUsageError) {
  auto run = ferry({"run", "--frobnicate"});
  EXPECT_EQ(run.exit_code, 2) << run.err;
}

TEST_F(FerryRunTest, InterruptCancelsJobsStopsTheAgentAndExits130) {
  // An input URL whose server trickles bytes forever keeps the job running.
  test::ScriptedHttpServer slow_source([](const std::string&, test::RawConnection& client,
                                          const std::atomic<bool>& stopping) {
    if (!client.send("HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: 100000000\r\n\r\n")) return;
    while (!stopping && client.send(std::string(64, '\0')))
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  });
  auto manifest = write_manifest("jobs:\n  - convert: {inputs: ['" + slow_source.url("/long.wav") +
                                 "'], format: mp3}\n");
  auto child = start_ferry({"run", manifest.string()}, "interrupt");
  bool running = test::wait_until(
      [&] {
        std::string err = test::read_text(dir_ / "interrupt.err");
        return err.find("long.wav -> mp3: running") != std::string::npos ||
               err.find("long.wav -> mp3: queued") != std::string::npos;
      },
      std::chrono::seconds(30));
  ASSERT_TRUE(running) << test::read_text(dir_ / "interrupt.err");
  ASSERT_FALSE(agents_mentioning(dir_.path().string()).empty());
  child->signal(SIGINT);
  auto status = child->wait_for_exit(std::chrono::seconds(30));
  ASSERT_TRUE(status) << "ferry did not exit after SIGINT";
  EXPECT_EQ(*status, 130) << test::read_text(dir_ / "interrupt.err");
  EXPECT_TRUE(agents_mentioning(dir_.path().string()).empty());
  auto runs = json::parse(ferry({"status", "--json"}).out);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["state"], "interrupted");
  EXPECT_EQ(runs[0]["instances"][0]["state"], "destroyed");
}

// Samples and rate of the first audio stream, as the container states them.
std::pair<std::int64_t, int> stream_samples(const fs::path& file) {
  auto parsed = json::parse(command_output("ffprobe -v error -select_streams a:0 -show_entries "
                                           "stream=duration_ts,sample_rate -of json '" + file.string() + "'"),
                            nullptr, false);
  if (!parsed.is_object() || parsed["streams"].empty()) return {-1, 0};
  const auto& stream = parsed["streams"][0];
  return {stream.value("duration_ts", std::int64_t{-1}), std::stoi(stream.value("sample_rate", "0"))};
}

TEST_F(FerryRunTest, LoopEntryTakesTheOutputOfAnEarlierEntryAndMakesAnExactLengthFile) {
  // Clicks every half second (120 bpm) over a low hum: a track with a steady beat.
  make_media("-f lavfi -i \"aevalsrc='0.6*sin(2*PI*1000*t)*exp(-mod(t-0.25,0.5)/0.008)*gte(t,0.25)*lt(mod(t-0.25,0.5),"
             "0.03)+0.1*sin(2*PI*110*t)':s=44100:d=12\" -ac 2 '" + (dir_ / "x.wav").string() + "'");
  auto manifest = write_manifest(R"(name: chain
jobs:
  - convert: {inputs: [x.wav], format: mp3}
  - loop: {input: results/x.mp3, duration: 30s, format: flac, fade: 1s}
)");
  auto plan = ferry({"run", manifest.string(), "--dry-run", "--json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_EQ(json::parse(plan.out)["jobs"][1]["input_kind"], "earlier_output") << plan.out;
  EXPECT_EQ(json::parse(plan.out)["uploads"].size(), 1u) << "only x.wav is uploaded up front";

  auto run = ferry({"run", manifest.string(), "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto summary = json::parse(run.out);
  ASSERT_EQ(summary["jobs"].size(), 2u);
  const auto& loop_job = summary["jobs"][1];
  ASSERT_EQ(loop_job["state"], "succeeded") << loop_job.dump();
  EXPECT_EQ(loop_job["kind"], "loop");
  ASSERT_EQ(loop_job["outputs"].size(), 1u);
  const fs::path looped = loop_job["outputs"][0].get<std::string>();
  EXPECT_EQ(looped, dir_ / "results" / "x_loop.flac");
  const auto [samples, rate] = stream_samples(looped);
  EXPECT_EQ(rate, 44100);
  EXPECT_EQ(samples, 30 * 44100) << "exact to the sample";
  const auto& result = loop_job["result"];
  ASSERT_TRUE(result.is_object()) << loop_job.dump();
  EXPECT_FALSE(result["fallback"].get<bool>()) << result.dump();
  EXPECT_NEAR(result["tempo_bpm"].get<double>(), 120.0, 2.4) << result.dump();
  EXPECT_EQ(result["frames"], 30 * 44100);
  EXPECT_DOUBLE_EQ(result["fade_in_s"].get<double>(), 1.0);
}

TEST_F(FerryRunTest, AwaitedInputThatNoEarlierEntryMadeFailsNamingIt) {
  make_media("-f lavfi -i sine=duration=1 '" + (dir_ / "a.wav").string() + "'");
  auto manifest = write_manifest(R"(jobs:
  - convert: {inputs: [a.wav], format: mp3}
  - loop: {input: results/b.mp3, duration: 10s}
)");
  auto run = ferry({"run", manifest.string(), "--json"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  auto summary = json::parse(run.out);
  EXPECT_EQ(summary["jobs"][0]["state"], "succeeded");
  EXPECT_EQ(summary["jobs"][1]["state"], "failed");
  const std::string error = summary["jobs"][1]["error"].get<std::string>();
  EXPECT_NE(error.find("jobs.yaml:3:"), std::string::npos) << error;
  EXPECT_NE(error.find("b.mp3"), std::string::npos) << error;
  EXPECT_NE(error.find((dir_ / "results" / "a.mp3").string()), std::string::npos) << "lists what exists: " << error;
}

}  // namespace
}  // namespace ferry
