#include "agent/jobs/job.hpp"

#include <gtest/gtest.h>

#include <set>

namespace ferry::agent::jobs {
namespace {

Job sample_job() {
  Job job;
  job.id = "job-1";
  job.kind = "convert";
  job.state = JobState::succeeded;
  job.progress = {"encode", 30, 60, 5.0};
  job.error = Error{ErrorCode::data_loss, "bad input", "inputs[0]"};
  job.outputs = {{"a.mp3", 1234, std::string(64, 'a')}};
  job.spec = {{"kind", "convert"}};
  job.result = {{"fallback", false}, {"loop_start_s", 1.5}};
  job.attempts = 2;
  job.created_at = *parse_rfc3339("2024-05-01T12:00:00.125Z");
  job.started_at = *parse_rfc3339("2024-05-01T12:00:01Z");
  return job;
}

TEST(JobJson, RoundTripsThroughTheRecordShape) {
  const Job job = sample_job();
  auto parsed = job_from_json(job_to_json(job));
  ASSERT_TRUE(parsed) << parsed.error().describe();
  EXPECT_EQ(job_to_json(*parsed), job_to_json(job));
  EXPECT_EQ(parsed->attempts, 2);
  EXPECT_EQ(parsed->error->field, "inputs[0]");
  EXPECT_EQ(parsed->result, sample_job().result);
}

TEST(JobJson, ResultIsNullUntilAnEngineReportsOne) {
  Job job = sample_job();
  job.result = nullptr;
  EXPECT_TRUE(job_to_json(job)["result"].is_null());
  auto without = job_to_json(job);
  without.erase("result");  // records written before results existed
  auto parsed = job_from_json(without);
  ASSERT_TRUE(parsed) << parsed.error().describe();
  EXPECT_TRUE(parsed->result.is_null());
}

TEST(JobJson, HasTheApiFields) {
  auto json = job_to_json(sample_job(), std::size_t{3});
  for (const char* field : {"id", "kind", "state", "progress", "error", "outputs", "result", "spec", "queue_position",
                            "created_at", "started_at", "finished_at"})
    EXPECT_TRUE(json.contains(field)) << field;
  EXPECT_EQ(json["state"], "succeeded");
  EXPECT_EQ(json["queue_position"], 3);
  EXPECT_DOUBLE_EQ(json["progress"]["fraction"].get<double>(), 0.5);
  EXPECT_EQ(json["error"]["code"], "data_loss");
  EXPECT_EQ(json["created_at"], "2024-05-01T12:00:00.125Z");
  EXPECT_TRUE(json["finished_at"].is_null());
}

TEST(JobJson, RejectsRecordsWithBadFields) {
  auto json = job_to_json(sample_job());
  json["state"] = "exploded";
  EXPECT_FALSE(job_from_json(json));
  json = job_to_json(sample_job());
  json["id"] = "../etc";
  EXPECT_FALSE(job_from_json(json));
  json = job_to_json(sample_job());
  json.erase("spec");
  EXPECT_FALSE(job_from_json(json));
  EXPECT_FALSE(job_from_json(nlohmann::json::array()));
}

TEST(Rfc3339, FormatsUtcWithMillisecondsAndParsesBack) {
  auto time = parse_rfc3339("2023-12-31T23:59:59.5Z");
  ASSERT_TRUE(time);
  EXPECT_EQ(format_rfc3339(*time), "2023-12-31T23:59:59.500Z");
  EXPECT_FALSE(parse_rfc3339("2023-12-31 23:59:59Z"));
  EXPECT_FALSE(parse_rfc3339("2023-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("yesterday"));
}

TEST(JobProgress, FractionIsUnknownWithoutTotal) {
  EXPECT_FALSE((JobProgress{"x", 5, 0, {}}.fraction()));
  EXPECT_DOUBLE_EQ(*(JobProgress{"x", 15, 10, {}}.fraction()), 1.0);
}

TEST(EstimateEta, ExtrapolatesTheStageRate) {
  EXPECT_DOUBLE_EQ(*estimate_eta_s(10, 0.25), 30);
  EXPECT_FALSE(estimate_eta_s(10, std::nullopt));
  EXPECT_FALSE(estimate_eta_s(0.5, 0.5));
  EXPECT_DOUBLE_EQ(*estimate_eta_s(10, 1.0), 0);
}

TEST(JobIds, AreTwentySixBase32CharactersAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto id = new_job_id();
    EXPECT_EQ(id.size(), 26u);
    EXPECT_TRUE(is_valid_job_id(id));
    EXPECT_EQ(id.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567"), std::string::npos);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(JobIds, ClientIdsAreLimitedToSafeCharacters) {
  EXPECT_TRUE(is_valid_job_id("A-b_9"));
  EXPECT_FALSE(is_valid_job_id(""));
  EXPECT_FALSE(is_valid_job_id("a.b"));
  EXPECT_FALSE(is_valid_job_id("a/b"));
  EXPECT_FALSE(is_valid_job_id(std::string(65, 'a')));
}

}  // namespace
}  // namespace ferry::agent::jobs
