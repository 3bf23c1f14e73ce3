#include "controller/agent_client.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/sha256.hpp"
#include "tests/controller/loopback_server.hpp"
#include "tests/support/files.hpp"

namespace ferry::controller {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;
using test::LoopbackRequest;
using test::LoopbackResponse;
using test::LoopbackServer;

HttpResponse answer(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

RetryPolicy quick_retries() { return RetryPolicy{4, std::chrono::milliseconds(1), std::chrono::milliseconds(4)}; }

const char* kRunningJob = R"({"id":"r-e1-i1","kind":"convert","state":"running",
  "progress":{"stage":"encode","done":3,"total":10,"fraction":0.3,"eta_s":7},
  "error":null,"outputs":[]})";

TEST(AgentErrors, ErrorBodyBecomesTheError) {
  auto error = error_from_response(
      answer(400, R"({"error":{"code":"invalid_argument","message":"unknown format 'ogg'","field":"params.format"}})"),
      "submitting job x");
  EXPECT_EQ(error.code, ErrorCode::invalid_argument);
  EXPECT_EQ(error.message, "submitting job x: unknown format 'ogg'");
  EXPECT_EQ(error.field, "params.format");
}

TEST(AgentErrors, StatusWithoutBodyMapsThroughTheHttpTable) {
  EXPECT_EQ(error_from_response(answer(401, ""), "x").code, ErrorCode::unauthenticated);
  EXPECT_EQ(error_from_response(answer(404, "<html>"), "x").code, ErrorCode::not_found);
  EXPECT_EQ(error_from_response(answer(503, ""), "x").code, ErrorCode::unavailable);
  EXPECT_NE(error_from_response(answer(502, ""), "reading job y").message.find("reading job y"), std::string::npos);
}

TEST(AgentErrors, MissingCodeInBodyFallsBackToStatus) {
  auto error = error_from_response(answer(413, R"({"error":{"message":"too big"}})"), "upload");
  EXPECT_EQ(error.code, ErrorCode::resource_exhausted);
  EXPECT_EQ(error.message, "upload: too big");
}

TEST(AgentJobs, ParsesStateProgressAndOutputs) {
  auto job = agent_job_from_json(json::parse(kRunningJob));
  ASSERT_TRUE(job) << job.error().describe();
  EXPECT_EQ(job->state, "running");
  EXPECT_EQ(job->stage, "encode");
  EXPECT_DOUBLE_EQ(*job->fraction, 0.3);
  EXPECT_DOUBLE_EQ(*job->eta_s, 7);
  EXPECT_FALSE(job->error);
  EXPECT_FALSE(job->finished());

  auto done = agent_job_from_json(json::parse(R"({"id":"a","state":"succeeded","progress":{"fraction":null},
      "outputs":[{"name":"a.mp3","bytes":12,"sha256":"ab"}]})"));
  ASSERT_TRUE(done);
  EXPECT_TRUE(done->finished());
  EXPECT_FALSE(done->fraction);
  ASSERT_EQ(done->outputs.size(), 1u);
  EXPECT_EQ(done->outputs[0].bytes, 12u);
}

TEST(AgentJobs, FailedJobCarriesTheAgentsError) {
  auto job = agent_job_from_json(json::parse(
      R"({"id":"a","state":"failed","error":{"code":"unsupported","message":"no audio stream in input"}})"));
  ASSERT_TRUE(job);
  ASSERT_TRUE(job->error);
  EXPECT_EQ(job->error->code, ErrorCode::unsupported);
  EXPECT_EQ(job->error->message, "no audio stream in input");
}

TEST(AgentJobs, MalformedJobsAreDataLossNamingTheField) {
  auto no_state = agent_job_from_json(json::parse(R"({"id":"a"})"));
  ASSERT_FALSE(no_state);
  EXPECT_EQ(no_state.error().code, ErrorCode::data_loss);
  EXPECT_EQ(no_state.error().field, "state");
  auto bad_output = agent_job_from_json(json::parse(R"({"id":"a","state":"succeeded","outputs":[{"name":"x"}]})"));
  ASSERT_FALSE(bad_output);
  EXPECT_EQ(bad_output.error().field, "outputs[0]");
  EXPECT_FALSE(agent_job_from_json(json::parse("[1]")));
}

TEST(AgentJobs, FinishedJobCarriesTheAgentsWorkTimeFromItsTimestamps) {
  auto done = agent_job_from_json(json::parse(R"({"id":"a","state":"succeeded",
      "created_at":"2024-05-01T11:59:58.000Z","started_at":"2024-05-01T11:59:59.750Z",
      "finished_at":"2024-05-01T12:00:02.000Z"})"));
  ASSERT_TRUE(done);
  ASSERT_TRUE(done->work_s);
  EXPECT_NEAR(*done->work_s, 2.25, 1e-6) << "started to finished, not created to finished";

  auto running = agent_job_from_json(json::parse(
      R"({"id":"a","state":"running","started_at":"2024-05-01T11:59:59.750Z","finished_at":null})"));
  ASSERT_TRUE(running);
  EXPECT_FALSE(running->work_s) << "no work time before the job ends";
  auto untimed = agent_job_from_json(json::parse(R"({"id":"a","state":"failed"})"));
  ASSERT_TRUE(untimed);
  EXPECT_FALSE(untimed->work_s) << "an agent without timestamps gives none";
  auto garbled = agent_job_from_json(json::parse(
      R"({"id":"a","state":"succeeded","started_at":"yesterday","finished_at":"2024-05-01T12:00:02Z"})"));
  ASSERT_TRUE(garbled) << "a bad timestamp costs the work time, not the job";
  EXPECT_FALSE(garbled->work_s);
}

TEST(AgentJobs, Rfc3339TimestampsParseWithAndWithoutFractions) {
  EXPECT_EQ(unix_seconds_from_rfc3339("1970-01-01T00:00:10Z"), 10.0);
  auto precise = unix_seconds_from_rfc3339("2024-05-01T12:00:00.123Z");
  ASSERT_TRUE(precise);
  EXPECT_NEAR(*precise, 1714564800.123, 1e-6);
  EXPECT_FALSE(unix_seconds_from_rfc3339("2024-05-01T12:00:00"));
  EXPECT_FALSE(unix_seconds_from_rfc3339("2024-05-01T12:00:00.Z"));
  EXPECT_FALSE(unix_seconds_from_rfc3339("2024-05-01 12:00:00Z"));
}

TEST(Backoff, DoublesUpToTheCap) {
  RetryPolicy policy{5, std::chrono::milliseconds(100), std::chrono::milliseconds(350)};
  EXPECT_EQ(backoff_delay(policy, 1), std::chrono::milliseconds(100));
  EXPECT_EQ(backoff_delay(policy, 2), std::chrono::milliseconds(200));
  EXPECT_EQ(backoff_delay(policy, 3), std::chrono::milliseconds(350));
  EXPECT_EQ(backoff_delay(policy, 9), std::chrono::milliseconds(350));
}

TEST(AgentClientCalls, SendsBearerTokenAndRetriesTransientFailuresOfIdempotentCalls) {
  std::atomic<int> calls{0};
  std::string seen_authorization;
  std::string seen_body;
  LoopbackServer server([&](const LoopbackRequest& request, LoopbackResponse& response, const auto&) {
    seen_authorization = std::string(request[http::field::authorization]);
    seen_body = request.body();
    if (++calls < 3) {
      response.result(http::status::service_unavailable);
      response.body() = R"({"error":{"code":"unavailable","message":"starting"}})";
      return;
    }
    response.body() = kRunningJob;
  });
  AgentClient client(server.url(""), "tok123", {}, quick_retries());
  auto job = client.put_job("r-e1-i1", json{{"kind", "convert"}});
  ASSERT_TRUE(job) << job.error().describe();
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(job->state, "running");
  EXPECT_EQ(seen_authorization, "Bearer tok123");
  EXPECT_EQ(json::parse(seen_body)["kind"], "convert");
}

TEST(AgentClientCalls, GivesUpAfterTheLastAttempt) {
  std::atomic<int> calls{0};
  LoopbackServer server([&](const LoopbackRequest&, LoopbackResponse& response, const auto&) {
    ++calls;
    response.result(http::status::service_unavailable);
  });
  AgentClient client(server.url(""), "t", {}, quick_retries());
  auto job = client.get_job("a");
  ASSERT_FALSE(job);
  EXPECT_EQ(job.error().code, ErrorCode::unavailable);
  EXPECT_EQ(calls.load(), 4);
}

TEST(AgentClientCalls, ClientErrorsAreNotRetried) {
  std::atomic<int> calls{0};
  LoopbackServer server([&](const LoopbackRequest&, LoopbackResponse& response, const auto&) {
    ++calls;
    response.result(http::status::not_found);
    response.body() = R"({"error":{"code":"not_found","message":"no job 'zz'"}})";
  });
  AgentClient client(server.url(""), "t", {}, quick_retries());
  auto job = client.get_job("zz", 2);
  ASSERT_FALSE(job);
  EXPECT_EQ(job.error().code, ErrorCode::not_found);
  EXPECT_NE(job.error().message.find("no job 'zz'"), std::string::npos);
  EXPECT_EQ(calls.load(), 1);
}

TEST(AgentClientCalls, LongPollAsksForTheWait) {
  std::string target;
  LoopbackServer server([&](const LoopbackRequest& request, LoopbackResponse& response, const auto&) {
    target = std::string(request.target());
    response.body() = kRunningJob;
  });
  AgentClient client(server.url("/"), "t");
  ASSERT_TRUE(client.get_job("r-e1-i1", 2));
  EXPECT_EQ(target, "/v1/jobs/r-e1-i1?wait=2");
}

TEST(AgentClientCalls, UploadSendsDigestAndChecksTheReceipt) {
  test::TempDir dir;
  test::write_text(dir / "a.wav", "RIFF....");
  const std::string digest = sha256_hex("RIFF....");
  std::string seen_digest;
  bool lie = false;
  LoopbackServer server([&](const LoopbackRequest& request, LoopbackResponse& response, const auto&) {
    seen_digest = std::string(request["X-Content-Sha256"]);
    response.result(http::status::created);
    response.body() = json{{"sha256", lie ? sha256_hex("other") : sha256_hex(request.body())},
                           {"bytes", request.body().size()}}
                          .dump();
  });
  AgentClient client(server.url(""), "t");
  auto receipt = client.upload(dir / "a.wav", digest);
  ASSERT_TRUE(receipt) << receipt.error().describe();
  EXPECT_EQ(receipt->sha256, digest);
  EXPECT_EQ(receipt->bytes, 8u);
  EXPECT_EQ(seen_digest, digest);

  lie = true;
  auto mismatch = client.upload(dir / "a.wav", digest);
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().code, ErrorCode::data_loss);
}

TEST(AgentClientCalls, StopRequestCancelsATransfer) {
  LoopbackServer server([](const LoopbackRequest&, LoopbackResponse& response, const std::atomic<bool>& stopping) {
    for (int i = 0; i < 250 && !stopping; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    response.body() = kRunningJob;
  });
  AgentClient client(server.url(""), "t", [] { return true; });
  auto job = client.get_job("a", 5);
  ASSERT_FALSE(job);
  EXPECT_EQ(job.error().code, ErrorCode::cancelled);
}

}  // namespace
}  // namespace ferry::controller
