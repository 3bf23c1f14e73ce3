// Black-box tests of `ferry-agent serve`: each starts the real binary on
// 127.0.0.1 with port 0 and a temporary jobs folder, and talks raw HTTP.

#include <signal.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>

#include "common/sha256.hpp"
#include "tests/agent/agent_process.hpp"

namespace ferry::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// A mono 16-bit PCM WAV of a sine tone.
std::string make_wav(double seconds, int rate = 8000) {
  const auto frames = static_cast<std::uint32_t>(seconds * rate);
  std::string data;
  for (std::uint32_t i = 0; i < frames; ++i) {
    auto sample = static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * 440.0 * i / rate));
    data.append(reinterpret_cast<const char*>(&sample), 2);
  }
  auto u32 = [](std::uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [](std::uint16_t v) { return std::string(reinterpret_cast<const char*>(&v), 2); };
  return "RIFF" + u32(36 + static_cast<std::uint32_t>(data.size())) + "WAVE" + "fmt " + u32(16) + u16(1) + u16(1) +
         u32(static_cast<std::uint32_t>(rate)) + u32(static_cast<std::uint32_t>(rate) * 2) + u16(2) + u16(16) +
         "data" + u32(static_cast<std::uint32_t>(data.size())) + data;
}

json convert_spec(const json& input) {
  return {{"kind", "convert"}, {"inputs", json::array({input})}, {"params", {{"format", "wav"}}}};
}

// Uploads still being received (or left behind by a broken one).
int incoming_files(const std::filesystem::path& uploads) {
  int count = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(uploads, ec), end; !ec && it != end; it.increment(ec))
    count += it->path().filename().string().rfind(".incoming-", 0) == 0;
  return count;
}

class AgentE2E : public ::testing::Test {
 protected:
  AgentLaunch launch(std::vector<std::string> extra_args = {}, std::map<std::string, std::string> env = {}) {
    return AgentLaunch{jobs_dir(), dir_.path(), std::move(env), std::move(extra_args), true, {}};
  }
  std::filesystem::path jobs_dir() const { return dir_.path() / "jobs"; }
  std::filesystem::path uploads_dir() const { return jobs_dir() / "uploads"; }

  static std::string upload(const AgentProcess& agent, const std::string& bytes) {
    auto reply = agent.request("POST", "/v1/uploads", bytes);
    EXPECT_EQ(reply.status, 201) << reply.body;
    return AgentProcess::json(reply).value("sha256", "");
  }

  // Long-polls until the job is finished; returns its last representation.
  static json wait_finished(const AgentProcess& agent, const std::string& id) {
    json job;
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < until) {
      job = AgentProcess::json(agent.request("GET", "/v1/jobs/" + id + "?wait=5"));
      const auto state = job.value("state", "");
      if (state == "succeeded" || state == "failed" || state == "canceled") return job;
    }
    ADD_FAILURE() << "job " << id << " did not finish: " << job.dump();
    return job;
  }

  // Submits a job and waits for it to finish.
  static json run_job(const AgentProcess& agent, const json& spec) {
    auto created = agent.request("POST", "/v1/jobs", spec.dump());
    EXPECT_EQ(created.status, 202) << created.body;
    return wait_finished(agent, AgentProcess::json(created).value("id", ""));
  }

  static void expect_error(const HttpReply& reply, int status, const std::string& code,
                           const std::string& field = {}) {
    EXPECT_EQ(reply.status, status) << reply.body;
    auto body = AgentProcess::json(reply);
    ASSERT_TRUE(body.contains("error")) << reply.body;
    EXPECT_EQ(body["error"]["code"], code) << reply.body;
    EXPECT_FALSE(body["error"].value("message", "").empty());
    if (!field.empty()) {
      EXPECT_EQ(body["error"].value("field", ""), field) << reply.body;
    }
  }

  TempDir dir_{"ferry-agent-e2e"};
};


// Most behaviour needs no special flags: those tests share one agent.
class SharedAgentE2E : public AgentE2E {
 protected:
  static void SetUpTestSuite() {
    shared_dir_ = new TempDir("ferry-agent-e2e-shared");
    shared_ = new AgentProcess(AgentLaunch{shared_dir_->path() / "jobs", shared_dir_->path(), {},
                                           {"--max-upload", "1MB"}, true, {}});
  }
  static void TearDownTestSuite() {
    delete shared_;
    delete shared_dir_;
  }
  const AgentProcess& agent() const { return *shared_; }
  std::filesystem::path shared_jobs() const { return shared_dir_->path() / "jobs"; }

  static inline TempDir* shared_dir_ = nullptr;
  static inline AgentProcess* shared_ = nullptr;
};

TEST_F(SharedAgentE2E, HealthChecksAnswerWithoutAToken) {
  const auto& agent = this->agent();
  EXPECT_EQ(agent.request("GET", "/healthz", {}, {}, false).status, 200);
  auto health = agent.request("GET", "/v1/health", {}, {}, false);
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(AgentProcess::json(health)["status"], "READY");
  EXPECT_FALSE(AgentProcess::json(health)["version"].get<std::string>().empty());
  EXPECT_EQ(agent.request("GET", "/health", {}, {}, false).status, 200);
  EXPECT_NE(agent.log().find("listening on 127.0.0.1:" + std::to_string(agent.port())), std::string::npos);
}

TEST_F(SharedAgentE2E, MissingOrWrongTokenIsUnauthenticatedAndNeverLogged) {
  const auto& agent = this->agent();
  expect_error(agent.request("GET", "/v1/status", {}, {}, false), 401, "unauthenticated");
  auto wrong = agent.request("GET", "/v1/jobs", {}, {{"Authorization", "Bearer not-the-token"}}, false);
  expect_error(wrong, 401, "unauthenticated");
  EXPECT_EQ(wrong.header("www-authenticate"), "Bearer");
  expect_error(agent.request("POST", "/v1/uploads", "data", {}, false), 401, "unauthenticated");
  auto status = agent.request("GET", "/v1/status");
  EXPECT_EQ(status.status, 200);
  auto body = AgentProcess::json(status);
  EXPECT_EQ(body["device"]["device"], "cpu");
  EXPECT_GT(body["memory"]["rss_bytes"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(body["queue"]["length"], 0);
  EXPECT_EQ(agent.log().find(kTestToken), std::string::npos);
}

TEST_F(AgentE2E, GeneratedTokenIsPrintedOnceAndWorks) {
  auto options = launch();
  options.set_token = false;
  AgentProcess agent(options);
  const std::string marker = "generated token: ";
  ASSERT_TRUE(wait_until([&] { return agent.log().find(marker) != std::string::npos; }, 10s));
  const auto log = agent.log();
  const auto at = log.find(marker) + marker.size();
  const auto token = log.substr(at, log.find('\n', at) - at);
  auto reply = agent.request("GET", "/v1/status", {}, {{"Authorization", "Bearer " + token}}, false);
  EXPECT_EQ(reply.status, 200);
}

TEST_F(SharedAgentE2E, UnknownRoutesAndMethodsGetTheErrorBody) {
  const auto& agent = this->agent();
  expect_error(agent.request("GET", "/v1/nothing"), 404, "not_found");
  auto wrong_method = agent.request("PATCH", "/v1/jobs");
  expect_error(wrong_method, 405, "invalid_argument");
  EXPECT_EQ(wrong_method.header("allow"), "POST, GET");
  expect_error(agent.request("GET", "/v1/jobs/nope"), 404, "not_found", "id");
  auto garbage = http_exchange(agent.port(), "NOT HTTP AT ALL\r\n\r\n");
  ASSERT_TRUE(garbage);
  expect_error(*garbage, 400, "invalid_argument");
}

TEST_F(SharedAgentE2E, BadJobBodiesAreRejectedWithTheField) {
  const auto& agent = this->agent();
  expect_error(agent.request("POST", "/v1/jobs", "{\"kind\": "), 400, "invalid_argument", "body");
  expect_error(agent.request("POST", "/v1/jobs", std::string(2 << 20, ' ')), 413, "resource_exhausted");
  auto unknown = convert_spec({{"upload", std::string(64, 'a')}, {"name", "a.wav"}});
  unknown["colour"] = "blue";
  auto reply = agent.request("POST", "/v1/jobs", unknown.dump());
  expect_error(reply, 400, "invalid_argument", "colour");
  auto not_uploaded = agent.request("POST", "/v1/jobs", convert_spec({{"upload", std::string(64, 'a')}, {"name", "a.wav"}}).dump());
  expect_error(not_uploaded, 400, "invalid_argument", "inputs[0].upload");
  EXPECT_NE(AgentProcess::json(not_uploaded)["error"]["message"].get<std::string>().find("/v1/uploads"),
            std::string::npos);
}

TEST_F(SharedAgentE2E, UploadsAreStoredByDigestAndChecked) {
  const auto& agent = this->agent();
  const std::string data(700000, 'x');
  auto stored = agent.request("POST", "/v1/uploads", data, {{"X-Content-Sha256", sha256_hex(data)}});
  EXPECT_EQ(stored.status, 201);
  EXPECT_EQ(AgentProcess::json(stored)["sha256"], sha256_hex(data));
  EXPECT_EQ(AgentProcess::json(stored)["bytes"], 700000);
  EXPECT_EQ(read_text(shared_jobs() / "uploads" / sha256_hex(data)), data);

  auto mismatch = agent.request("POST", "/v1/uploads", "other", {{"X-Content-Sha256", sha256_hex("else")}});
  expect_error(mismatch, 422, "data_loss", "X-Content-Sha256");
  expect_error(agent.request("POST", "/v1/uploads", std::string(1'000'001, 'y')), 413, "resource_exhausted");

  // Without a length up front the limit is found while streaming.
  std::string chunk = "40000\r\n" + std::string(0x40000, 'z') + "\r\n";
  std::string chunked = chunk + chunk + chunk + chunk + "0\r\n\r\n";
  auto streamed = agent.request("POST", "/v1/uploads", chunked, {{"Transfer-Encoding", "chunked"}});
  expect_error(streamed, 413, "resource_exhausted");
  EXPECT_TRUE(wait_until([&] { return incoming_files(shared_jobs() / "uploads") == 0; }, 5s))
      << "partial uploads are deleted";
}

TEST_F(SharedAgentE2E, TraversalAndOddNamesNeverReachTheDisk) {
  const auto& agent = this->agent();
  for (const char* target : {"/v1/jobs/../uploads", "/v1/jobs/%2e%2e/outputs/job.json",
                             "/v1/jobs/abc/outputs/..%2fjob.json", "/v1/jobs/abc/outputs/%2e%2e",
                             "/v1/jobs/a%2fb", "/v1/jobs/a$b/outputs/x", "/v1/jobs/abc/outputs/.job.json",
                             "/result/..%5c..", "/v1/jobs/%zz"}) {
    auto reply = agent.request("GET", target);
    EXPECT_EQ(reply.status, 400) << target << ": " << reply.body;
    EXPECT_EQ(AgentProcess::json(reply)["error"]["code"], "invalid_argument") << target;
  }
  expect_error(agent.request("PUT", "/v1/jobs/bad.id", "{}"), 400, "invalid_argument", "id");
}

TEST_F(SharedAgentE2E, ConvertJobRunsAndItsOutputDownloadsWithRanges) {
  const auto& agent = this->agent();
  const auto sha = upload(agent, make_wav(1.0));
  auto created = agent.request("POST", "/v1/jobs", convert_spec({{"upload", sha}, {"name", "tone.wav"}}).dump());
  ASSERT_EQ(created.status, 202) << created.body;
  const auto id = AgentProcess::json(created)["id"].get<std::string>();
  EXPECT_EQ(id.size(), 26u);

  auto job = wait_finished(agent, id);
  ASSERT_EQ(job["state"], "succeeded") << job.dump();
  ASSERT_FALSE(job["outputs"].empty());
  const auto output = job["outputs"][0];
  const auto name = output["name"].get<std::string>();
  const auto size = output["bytes"].get<std::uint64_t>();
  ASSERT_GT(size, 100u);

  auto whole = agent.request("GET", "/v1/jobs/" + id + "/outputs/" + name);
  EXPECT_EQ(whole.status, 200);
  EXPECT_EQ(whole.header("accept-ranges"), "bytes");
  EXPECT_EQ(whole.body.size(), size);
  EXPECT_EQ(sha256_hex(whole.body), output["sha256"]);

  auto head = agent.request("GET", "/v1/jobs/" + id + "/outputs/" + name, {}, {{"Range", "bytes=0-99"}});
  EXPECT_EQ(head.status, 206);
  EXPECT_EQ(head.header("content-range"), "bytes 0-99/" + std::to_string(size));
  EXPECT_EQ(head.body, whole.body.substr(0, 100));
  auto tail = agent.request("GET", "/v1/jobs/" + id + "/outputs/" + name, {}, {{"Range", "bytes=-10"}});
  EXPECT_EQ(tail.status, 206);
  EXPECT_EQ(tail.body, whole.body.substr(size - 10));

  auto past = agent.request("GET", "/v1/jobs/" + id + "/outputs/" + name,
                            {}, {{"Range", "bytes=" + std::to_string(size) + "-"}});
  expect_error(past, 416, "invalid_argument", "Range");
  EXPECT_EQ(past.header("content-range"), "bytes */" + std::to_string(size));

  auto legacy = agent.request("GET", "/result/" + id);
  EXPECT_EQ(legacy.status, 200);
  EXPECT_EQ(legacy.body, whole.body);
  expect_error(agent.request("GET", "/v1/jobs/" + id + "/outputs/missing.wav"), 404, "not_found", "name");
  expect_error(agent.request("POST", "/v1/jobs/" + id + "/cancel"), 409, "failed_precondition");

  EXPECT_EQ(agent.request("DELETE", "/v1/jobs/" + id).status, 200);
  expect_error(agent.request("GET", "/v1/jobs/" + id), 404, "not_found");
  EXPECT_FALSE(std::filesystem::exists(shared_jobs() / id));
}

TEST_F(SharedAgentE2E, PutIsIdempotentAndConflictsOnADifferentSpec) {
  const auto& agent = this->agent();
  const auto sha = upload(agent, make_wav(0.2));
  const auto spec = convert_spec({{"upload", sha}, {"name", "a.wav"}});
  auto first = agent.request("PUT", "/v1/jobs/my-job", spec.dump());
  EXPECT_EQ(first.status, 202) << first.body;
  auto again = agent.request("PUT", "/v1/jobs/my-job", spec.dump());
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(AgentProcess::json(again)["id"], "my-job");
  auto other = spec;
  other["params"]["format"] = "flac";
  expect_error(agent.request("PUT", "/v1/jobs/my-job", other.dump()), 409, "already_exists");
  EXPECT_EQ(wait_finished(agent, "my-job")["state"], "succeeded");
}

TEST_F(AgentE2E, StalledUploadIsCutOffWhileOthersAreServed) {
  AgentProcess agent(launch({"--io-timeout", "1s"}));
  RawConnection stalled(agent.port());
  ASSERT_TRUE(stalled.send("POST /v1/uploads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(kTestToken) +
                           "\r\nContent-Length: 100000\r\n\r\n" + std::string(5000, 'a')));
  ASSERT_TRUE(wait_until([&] { return incoming_files(uploads_dir()) == 1; }, 10s)) << "the upload started";
  EXPECT_EQ(agent.request("GET", "/healthz", {}, {}, false).status, 200) << "others are served meanwhile";
  auto read = stalled.read_until_closed(20s);
  EXPECT_TRUE(read.closed_by_peer) << "the server closes a stalled upload";
  EXPECT_TRUE(wait_until([&] { return incoming_files(uploads_dir()) == 0; }, 5s)) << "the partial file is deleted";
  EXPECT_EQ(agent.request("GET", "/v1/jobs").status, 200);
}

TEST_F(AgentE2E, IdleTimeoutStopsTheAgentWithStatusZero) {
  AgentProcess agent(launch({}, {{"FERRY_IDLE_TIMEOUT", "1s"}}));
  auto status = agent.process().wait_for_exit(30s);
  ASSERT_TRUE(status) << agent.log();
  EXPECT_EQ(*status, 0);
  EXPECT_NE(agent.log().find("FERRY_IDLE_TIMEOUT"), std::string::npos);
}

TEST_F(AgentE2E, DeadlineStopsTheAgentWithItsOwnStatus) {
  AgentProcess agent(launch({}, {{"FERRY_DEADLINE", "1s"}}));
  auto status = agent.process().wait_for_exit(30s);
  ASSERT_TRUE(status) << agent.log();
  EXPECT_EQ(*status, 3);
}

TEST_F(AgentE2E, BadEnvironmentFailsTheStartClearly) {
  ChildProcess::Options options;
  options.argv = {FERRY_AGENT_BIN, "serve", "--port", "0", "--jobs", jobs_dir().string()};
  options.env = {{"FERRY_IDLE_TIMEOUT", "soon"}};
  options.stderr_path = dir_.path() / "bad.log";
  ChildProcess agent(options);
  auto status = agent.wait_for_exit(30s);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 1);
  EXPECT_NE(read_text(dir_.path() / "bad.log").find("FERRY_IDLE_TIMEOUT"), std::string::npos);
}

// Serves a WAV at /tone.wav: the first request gets half of it and then
// nothing (a slow origin), later requests get all of it.
class SlowOrigin {
 public:
  explicit SlowOrigin(std::string body)
      : body_(std::move(body)),
        server_([this](const std::string&, RawConnection& client, const std::atomic<bool>& stopping) {
          const bool first = ++requests_ == 1;
          std::string head = "HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: " +
                             std::to_string(body_.size()) + "\r\nConnection: close\r\n\r\n";
          if (!first) {
            client.send(head + body_);
            return;
          }
          client.send(head + body_.substr(0, body_.size() / 2));
          while (!stopping && !client.read_until_closed(50ms).closed_by_peer) {
          }
        }) {}
  std::string url() const { return server_.url("/tone.wav"); }
  int requests() const { return requests_.load(); }

 private:
  std::string body_;
  std::atomic<int> requests_{0};
  ScriptedHttpServer server_;
};

TEST_F(AgentE2E, KilledAgentRerunsTheInterruptedJobAndKeepsFinishedOutputs) {
  SlowOrigin origin(make_wav(0.5));
  std::string finished_id, finished_name, interrupted_id;
  {
    AgentProcess agent(launch());
    const auto sha = upload(agent, make_wav(0.3));
    finished_id = AgentProcess::json(agent.request("POST", "/v1/jobs", convert_spec({{"upload", sha}, {"name", "short.wav"}}).dump()))["id"];
    auto finished = wait_finished(agent, finished_id);
    ASSERT_EQ(finished["state"], "succeeded");
    finished_name = finished["outputs"][0]["name"];

    auto created = agent.request("POST", "/v1/jobs", convert_spec({{"url", origin.url()}}).dump());
    ASSERT_EQ(created.status, 202) << created.body;
    interrupted_id = AgentProcess::json(created)["id"];
    ASSERT_TRUE(wait_until([&] { return origin.requests() == 1; }, 20s));
    EXPECT_EQ(AgentProcess::json(agent.request("GET", "/v1/jobs/" + interrupted_id))["state"], "running");
    agent.process().signal(SIGKILL);
    ASSERT_TRUE(agent.process().wait_for_exit(10s));
  }
  AgentProcess restarted(launch());
  auto job = wait_finished(restarted, interrupted_id);
  EXPECT_EQ(job["state"], "succeeded") << job.dump();
  EXPECT_EQ(job["attempts"], 2);
  EXPECT_EQ(origin.requests(), 2);
  auto old_output = restarted.request("GET", "/v1/jobs/" + finished_id + "/outputs/" + finished_name);
  EXPECT_EQ(old_output.status, 200);
  EXPECT_FALSE(old_output.body.empty());
}

TEST_F(AgentE2E, SigtermStopsCleanlyAndPersistsTheRunningJob) {
  SlowOrigin origin(make_wav(0.5));
  AgentProcess agent(launch());
  auto created = agent.request("POST", "/v1/jobs", convert_spec({{"url", origin.url()}}).dump());
  ASSERT_EQ(created.status, 202) << created.body;
  const std::string id = AgentProcess::json(created)["id"];
  ASSERT_TRUE(wait_until([&] { return origin.requests() == 1; }, 20s));
  agent.process().signal(SIGTERM);
  auto status = agent.process().wait_for_exit(30s);
  ASSERT_TRUE(status) << agent.log();
  EXPECT_EQ(*status, 0) << agent.log();
  auto record = json::parse(read_text(jobs_dir() / id / "job.json"), nullptr, false);
  EXPECT_EQ(record.value("state", ""), "queued") << "it runs again on the next start";
}

TEST_F(SharedAgentE2E, CancelReachesARunningJob) {
  SlowOrigin origin(make_wav(0.5));
  const auto& agent = this->agent();
  auto created = agent.request("POST", "/v1/jobs", convert_spec({{"url", origin.url()}}).dump());
  const std::string id = AgentProcess::json(created)["id"];
  ASSERT_TRUE(wait_until([&] { return origin.requests() == 1; }, 20s));
  auto canceled = agent.request("POST", "/v1/jobs/" + id + "/cancel");
  EXPECT_EQ(canceled.status, 200) << canceled.body;
  auto job = wait_finished(agent, id);
  EXPECT_EQ(job["state"], "canceled") << job.dump();
}

// A mono 16-bit WAV of 1 kHz clicks at `bpm`, the first beat 0.25 s in;
// `beats_s` receives the true beat times.
std::string make_click_wav(double bpm, double seconds, int rate, std::vector<double>& beats_s) {
  std::vector<double> samples(static_cast<std::size_t>(seconds * rate), 0.0);
  for (double beat = 0.25; beat < seconds - 0.05; beat += 60.0 / bpm) {
    beats_s.push_back(beat);
    const auto start = static_cast<std::size_t>(std::llround(beat * rate));
    for (std::size_t i = 0; i < static_cast<std::size_t>(0.03 * rate) && start + i < samples.size(); ++i) {
      const double t = static_cast<double>(i) / rate;
      samples[start + i] = 0.6 * std::sin(2 * M_PI * 1000.0 * t) * std::exp(-t / 0.008);
    }
  }
  std::string data;
  for (double value : samples) {
    auto sample = static_cast<std::int16_t>(std::lround(value * 32767));
    data.append(reinterpret_cast<const char*>(&sample), 2);
  }
  auto u32 = [](std::uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [](std::uint16_t v) { return std::string(reinterpret_cast<const char*>(&v), 2); };
  return "RIFF" + u32(36 + static_cast<std::uint32_t>(data.size())) + "WAVE" + "fmt " + u32(16) + u16(1) + u16(1) +
         u32(static_cast<std::uint32_t>(rate)) + u32(static_cast<std::uint32_t>(rate) * 2) + u16(2) + u16(16) +
         "data" + u32(static_cast<std::uint32_t>(data.size())) + data;
}

// Bytes in the "data" chunk of a RIFF/WAVE file; 0 when there is none.
std::uint64_t wav_data_bytes(const std::string& file) {
  std::size_t at = 12;
  while (at + 8 <= file.size()) {
    std::uint32_t size = 0;
    std::memcpy(&size, file.data() + at + 4, 4);
    if (file.compare(at, 4, "data") == 0) return size;
    at += 8 + size + (size & 1);
  }
  return 0;
}

TEST_F(SharedAgentE2E, LoopJobMakesAnExactLengthFileAndReportsItsLoopPoints) {
  const auto& agent = this->agent();
  std::vector<double> beats_s;
  const auto sha = upload(agent, make_click_wav(120, 10.0, 22050, beats_s));
  json spec = {{"kind", "loop"},
               {"inputs", json::array({{{"upload", sha}, {"name", "clicks.wav"}}})},
               {"params", {{"duration_s", 30}, {"format", "wav"}, {"fade_out_s", 0}}}};
  auto created = agent.request("POST", "/v1/jobs", spec.dump());
  ASSERT_EQ(created.status, 202) << created.body;
  const auto id = AgentProcess::json(created)["id"].get<std::string>();

  auto job = wait_finished(agent, id);
  ASSERT_EQ(job["state"], "succeeded") << job.dump();
  EXPECT_EQ(job["kind"], "loop");
  ASSERT_EQ(job["outputs"].size(), 1u);
  EXPECT_EQ(job["outputs"][0]["name"], "clicks_loop.wav");
  const auto& result = job["result"];
  ASSERT_TRUE(result.is_object()) << job.dump();
  EXPECT_FALSE(result["fallback"].get<bool>()) << result.dump();
  auto nearest_beat = [&](double seconds) {
    double best = 1e9;
    for (double beat : beats_s) best = std::min(best, std::abs(beat - seconds));
    return best;
  };
  EXPECT_LE(nearest_beat(result["loop_start_s"].get<double>()), 0.010) << result.dump();
  EXPECT_LE(nearest_beat(result["loop_end_s"].get<double>()), 0.010) << result.dump();
  EXPECT_EQ(result["frames"], 30 * 22050);

  auto file = agent.request("GET", "/v1/jobs/" + id + "/outputs/clicks_loop.wav");
  ASSERT_EQ(file.status, 200);
  EXPECT_EQ(sha256_hex(file.body), job["outputs"][0]["sha256"]);
  EXPECT_EQ(wav_data_bytes(file.body), 30u * 22050u * 2u) << "exactly 30 s of 16-bit mono";
}

TEST_F(SharedAgentE2E, LoopJobWithABadDurationIsRejectedNamingIt) {
  const auto& agent = this->agent();
  for (double seconds : {0.0, -3600.0, 11.0 * 3600.0}) {
    json spec = {{"kind", "loop"},
                 {"inputs", json::array({{{"url", "https://example.com/a.wav"}}})},
                 {"params", {{"duration_s", seconds}}}};
    expect_error(agent.request("POST", "/v1/jobs", spec.dump()), 400, "invalid_argument", "params.duration_s");
  }
}

#if FERRY_AGENT_TORCH_PLUGIN
// LibTorch lives in a plugin the agent loads for the first separate or
// generate job: an agent that converts never maps it.
bool maps_library(const AgentProcess& agent, const std::string& name) {
  return read_text("/proc/" + std::to_string(const_cast<AgentProcess&>(agent).process().pid()) + "/maps")
             .find(name) != std::string::npos;
}

// A separate job naming a checkpoint the models folder does not have: the
// engine has to run (and so be loaded) to find that out.
json separate_missing_checkpoint_spec(const std::string& sha) {
  return {{"kind", "separate"},
          {"inputs", json::array({{{"upload", sha}, {"name", "tone.wav"}}})},
          {"params", {{"checkpoint", "missing.th"}}}};
}

TEST_F(AgentE2E, LibTorchIsLoadedByTheFirstJobThatNeedsItAndNotBefore) {
  AgentProcess agent(launch({}, {{"FERRY_MODELS_DIR", (dir_.path() / "models").string()}}));
  const auto status = AgentProcess::json(agent.request("GET", "/v1/status"));
  EXPECT_EQ(status["device"]["torch_available"], true) << status.dump();
  EXPECT_FALSE(status["device"].value("torch_version", "").empty()) << status.dump();
  EXPECT_FALSE(maps_library(agent, "libtorch_cpu"));

  const auto sha = upload(agent, make_wav(0.5));
  EXPECT_EQ(run_job(agent, convert_spec({{"upload", sha}, {"name", "tone.wav"}}))["state"], "succeeded");
  EXPECT_FALSE(maps_library(agent, "libtorch_cpu")) << "a convert job loaded LibTorch";

  const auto separated = run_job(agent, separate_missing_checkpoint_spec(sha));
  ASSERT_EQ(separated["state"], "failed") << separated.dump();
  EXPECT_NE(separated.dump().find("missing.th"), std::string::npos) << separated.dump();
  EXPECT_TRUE(maps_library(agent, "libferry-agent-torch.so"));
  EXPECT_TRUE(maps_library(agent, "libtorch_cpu"));
  EXPECT_NE(agent.log().find("LibTorch engines loaded"), std::string::npos) << agent.log();
}

TEST_F(AgentE2E, WithoutItsPluginTheAgentStillConvertsAndRefusesSeparationNamingThePlugin) {
  const auto alone = dir_.path() / "bin" / "ferry-agent";
  std::filesystem::create_directories(alone.parent_path());
  std::filesystem::copy_file(FERRY_AGENT_BIN, alone);
  AgentLaunch without = launch();
  without.binary = alone;
  AgentProcess agent(without);
  EXPECT_EQ(AgentProcess::json(agent.request("GET", "/v1/status"))["device"]["torch_available"], false);

  const auto sha = upload(agent, make_wav(0.5));
  EXPECT_EQ(run_job(agent, convert_spec({{"upload", sha}, {"name", "tone.wav"}}))["state"], "succeeded");
  const auto separated = run_job(agent, separate_missing_checkpoint_spec(sha));
  ASSERT_EQ(separated["state"], "failed") << separated.dump();
  EXPECT_EQ(separated["error"]["code"], "unsupported") << separated.dump();
  EXPECT_NE(separated["error"].value("message", "").find("libferry-agent-torch.so"), std::string::npos)
      << separated.dump();
}

TEST_F(AgentE2E, APluginThatDoesNotLoadIsRefusedWithTheLoadersReason) {
  const auto alone = dir_.path() / "bin" / "ferry-agent";
  std::filesystem::create_directories(alone.parent_path());
  std::filesystem::copy_file(FERRY_AGENT_BIN, alone);
  write_text(alone.parent_path() / "libferry-agent-torch.so", "not an ELF file");
  AgentLaunch broken = launch();
  broken.binary = alone;
  AgentProcess agent(broken);

  const auto sha = upload(agent, make_wav(0.5));
  const auto separated = run_job(agent, separate_missing_checkpoint_spec(sha));
  ASSERT_EQ(separated["state"], "failed") << separated.dump();
  EXPECT_EQ(separated["error"]["code"], "unsupported") << separated.dump();
  const auto message = separated["error"].value("message", "");
  EXPECT_NE(message.find("could not load the LibTorch engines from " + (alone.parent_path() /
                                                                        "libferry-agent-torch.so").string()),
            std::string::npos)
      << message;
  // The job after it gets the same answer, without a second attempt at loading.
  EXPECT_EQ(run_job(agent, separate_missing_checkpoint_spec(sha))["error"]["code"], "unsupported");
}

TEST_F(AgentE2E, APluginOfAnotherBuildIsRefusedNamingIt) {
  const auto alone = dir_.path() / "bin" / "ferry-agent";
  std::filesystem::create_directories(alone.parent_path());
  std::filesystem::copy_file(FERRY_AGENT_BIN, alone);
  std::filesystem::copy_file(FOREIGN_TORCH_PLUGIN, alone.parent_path() / "libferry-agent-torch.so");
  AgentLaunch foreign = launch();
  foreign.binary = alone;
  AgentProcess agent(foreign);

  const auto separated = run_job(agent, separate_missing_checkpoint_spec(upload(agent, make_wav(0.5))));
  ASSERT_EQ(separated["state"], "failed") << separated.dump();
  EXPECT_EQ(separated["error"]["code"], "unsupported") << separated.dump();
  EXPECT_NE(separated["error"].value("message", "").find("is not the LibTorch plugin of this ferry-agent build"),
            std::string::npos)
      << separated.dump();
}
#endif

}  // namespace
}  // namespace ferry::test
