#include "agent/jobs/job_store.hpp"

#include <gtest/gtest.h>

#include "tests/support/files.hpp"

namespace ferry::agent::jobs {
namespace {

Job make_job(std::string id, JobState state, int attempts = 0) {
  Job job;
  job.id = std::move(id);
  job.kind = "convert";
  job.state = state;
  job.attempts = attempts;
  job.spec = {{"kind", "convert"}};
  job.created_at = Clock::now();
  return job;
}

class JobStoreTest : public ::testing::Test {
 protected:
  test::TempDir dir_{"ferry-job-store"};
  JobStore store_ = *JobStore::open(dir_.path() / "jobs");
};

TEST_F(JobStoreTest, CreateMakesTheFoldersAndRecord) {
  ASSERT_TRUE(store_.create(make_job("a", JobState::queued)));
  EXPECT_TRUE(std::filesystem::is_directory(store_.inputs_dir("a")));
  EXPECT_TRUE(std::filesystem::is_directory(store_.outputs_dir("a")));
  EXPECT_TRUE(std::filesystem::is_directory(store_.scratch_dir("a")));
  EXPECT_TRUE(std::filesystem::is_regular_file(store_.record_path("a")));
  EXPECT_TRUE(std::filesystem::is_directory(store_.uploads_dir()));
}

TEST_F(JobStoreTest, SaveReplacesTheRecordWithoutLeavingTemporaries) {
  auto job = make_job("a", JobState::queued);
  ASSERT_TRUE(store_.create(job));
  job.state = JobState::running;
  ASSERT_TRUE(store_.save(job));
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(store_.job_dir("a")))
    ++files;
  EXPECT_EQ(files, 4);  // job.json + three folders
  auto loaded = store_.load_all();
  ASSERT_EQ(loaded.jobs.size(), 1u);
  EXPECT_EQ(loaded.jobs[0].state, JobState::running);
}

TEST_F(JobStoreTest, LoadSkipsCorruptRecordsWithAWarning) {
  ASSERT_TRUE(store_.create(make_job("good", JobState::succeeded)));
  std::filesystem::create_directories(store_.job_dir("broken"));
  test::write_text(store_.record_path("broken"), "{\"id\": \"broken\", \"state\": ");
  std::filesystem::create_directories(store_.job_dir("empty"));
  ASSERT_TRUE(store_.create(make_job("renamed", JobState::queued)));
  std::filesystem::rename(store_.job_dir("renamed"), store_.job_dir("other"));

  auto loaded = store_.load_all();
  ASSERT_EQ(loaded.jobs.size(), 1u);
  EXPECT_EQ(loaded.jobs[0].id, "good");
  EXPECT_EQ(loaded.warnings.size(), 3u);
}

TEST_F(JobStoreTest, RemoveDeletesTheJobFolder) {
  ASSERT_TRUE(store_.create(make_job("a", JobState::queued)));
  test::write_text(store_.outputs_dir("a") / "x.wav", "data");
  ASSERT_TRUE(store_.remove("a"));
  EXPECT_FALSE(std::filesystem::exists(store_.job_dir("a")));
}

TEST(RecoverAfterRestart, FinishedJobsAreKept) {
  for (auto state : {JobState::succeeded, JobState::failed, JobState::canceled}) {
    auto job = make_job("a", state, 1);
    job.outputs = {{"x.wav", 4, "h"}};
    EXPECT_EQ(recover_after_restart(job), Recovery::keep);
    EXPECT_EQ(job.state, state);
    EXPECT_EQ(job.outputs.size(), 1u);
  }
}

TEST(RecoverAfterRestart, QueuedAndInterruptedJobsRunAgainFromScratch) {
  auto queued = make_job("q", JobState::queued);
  EXPECT_EQ(recover_after_restart(queued), Recovery::requeue);
  auto running = make_job("r", JobState::running, 2);
  running.progress = {"encode", 5, 10, {}};
  running.started_at = Clock::now();
  EXPECT_EQ(recover_after_restart(running), Recovery::requeue);
  EXPECT_EQ(running.state, JobState::queued);
  EXPECT_EQ(running.attempts, 2) << "attempts count starts, not restarts";
  EXPECT_EQ(running.progress.stage, "");
  EXPECT_FALSE(running.started_at);
}

TEST(RecoverAfterRestart, ThirdInterruptedAttemptFailsTheJob) {
  auto job = make_job("r", JobState::running, kMaxAttempts);
  EXPECT_EQ(recover_after_restart(job), Recovery::mark_failed);
  EXPECT_EQ(job.state, JobState::failed);
  ASSERT_TRUE(job.error);
  EXPECT_EQ(job.error->code, ErrorCode::internal);
  EXPECT_EQ(job.error->message, "interrupted: the agent stopped while this job was running (3 attempts)");
  EXPECT_TRUE(job.finished_at);
}

}  // namespace
}  // namespace ferry::agent::jobs
