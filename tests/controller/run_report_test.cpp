// The verdict of a run from how its instances and jobs ended.

#include <gtest/gtest.h>

#include "controller/run_report.hpp"

namespace ferry::controller {
namespace {

std::vector<TrackedJob> jobs_in(const std::vector<std::string>& states) {
  std::vector<TrackedJob> jobs;
  for (const auto& state : states) {
    TrackedJob job;
    job.record.state = state;
    jobs.push_back(job);
  }
  return jobs;
}

InstanceReport instance(Outcome outcome, bool came_up = true) {
  InstanceReport report;
  report.provider = "vast";
  report.instance_id = "4242";
  report.price_per_hour = 0.35;
  report.outcome = outcome;
  report.came_up = came_up;
  return report;
}

TEST(RunVerdict, SucceedsWhenEveryJobSucceededEvenIfOneInstanceNeverCameUp) {
  auto not_started = instance(Outcome::failed, false);
  not_started.error = Error{ErrorCode::unavailable, "vast: create: no machine", {}};
  auto verdict = judge_run({instance(Outcome::succeeded), not_started}, jobs_in({"succeeded", "succeeded"}), {});
  EXPECT_EQ(verdict.code, ExitCode::ok);
  EXPECT_EQ(verdict.state, RunState::succeeded);
  EXPECT_FALSE(verdict.error);
}

TEST(RunVerdict, AnInstanceThatMayStillBillWinsOverEverything) {
  auto stuck = instance(Outcome::teardown_failed);
  stuck.error = Error{ErrorCode::unavailable, "vast: destroy instance 4242: HTTP 500", {}};
  auto verdict = judge_run({stuck}, jobs_in({"failed"}), Error{ErrorCode::cancelled, "interrupted", {}});
  EXPECT_EQ(verdict.code, ExitCode::teardown_failed);
  EXPECT_EQ(verdict.state, RunState::teardown_failed);
  auto lines = teardown_failure_lines({stuck, instance(Outcome::succeeded)}, "run-1");
  ASSERT_EQ(lines.size(), 1u);
  for (const char* part : {"vast instance 4242", "billing", "ferry down run-1", "cloud.vast.ai"})
    EXPECT_NE(lines[0].find(part), std::string::npos) << part << " in " << lines[0];
}

TEST(RunVerdict, InterruptAndLimitsHaveTheirOwnCodes) {
  auto interrupted = judge_run({instance(Outcome::failed)}, jobs_in({"canceled"}),
                               Error{ErrorCode::cancelled, "interrupted by signal 2", {}});
  EXPECT_EQ(interrupted.code, ExitCode::interrupted);
  EXPECT_EQ(interrupted.state, RunState::interrupted);
  auto budget = judge_run({instance(Outcome::failed)}, jobs_in({"canceled"}),
                          Error{ErrorCode::resource_exhausted, "budget $1.00 about to be spent", "budget"});
  EXPECT_EQ(budget.code, ExitCode::limit_exceeded);
  EXPECT_NE(budget.message.find("budget"), std::string::npos);
  auto deadline = judge_run({instance(Outcome::failed)}, jobs_in({"canceled"}),
                            Error{ErrorCode::deadline_exceeded, "max_duration 1h reached", "max_duration"});
  EXPECT_EQ(deadline.code, ExitCode::limit_exceeded);
  auto after_the_work = judge_run({instance(Outcome::succeeded)}, jobs_in({"succeeded"}),
                                  Error{ErrorCode::deadline_exceeded, "max_duration 1h reached", "max_duration"});
  EXPECT_EQ(after_the_work.code, ExitCode::ok) << "a limit reached during the last teardown stopped nothing";
}

TEST(RunVerdict, NoInstanceUpTakesTheBringUpErrorsCode) {
  auto none = instance(Outcome::failed, false);
  none.error = Error{ErrorCode::unavailable, "runpod: create: no machine could be started", "offer"};
  auto verdict = judge_run({none}, jobs_in({"failed"}), {});
  EXPECT_EQ(verdict.code, ExitCode::no_capacity);
  ASSERT_TRUE(verdict.error);
  EXPECT_NE(verdict.message.find("runpod: create"), std::string::npos);
  none.error = Error{ErrorCode::unauthenticated, "runpod: RUNPOD_API_KEY was refused", {}};
  EXPECT_EQ(judge_run({none}, jobs_in({"failed"}), {}).code, ExitCode::provider_auth);
}

TEST(RunVerdict, FailedJobsExitOneAndSayHowMany) {
  auto verdict = judge_run({instance(Outcome::failed)}, jobs_in({"succeeded", "failed", "succeeded"}), {});
  EXPECT_EQ(verdict.code, ExitCode::job_failed);
  EXPECT_EQ(verdict.message, "1 of 3 jobs failed");
}

}  // namespace
}  // namespace ferry::controller
