// The job table, queue and worker, driven by injected runners so each test
// decides when a job progresses, finishes, fails or notices a cancel.

#include "agent/jobs/job_manager.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "common/sha256.hpp"
#include "tests/support/files.hpp"

namespace ferry::agent::jobs {
namespace {

using namespace std::chrono_literals;
constexpr auto kWait = 10s;

// A runner that records which inputs it started, reports progress, then
// waits until the test releases it or the job is cancelled.
class GatedRunner {
 public:
  JobRunner runner() {
    return [this](const config::JobParams&, const std::vector<LocalInput>& inputs,
                  EngineContext& context) -> Result<std::vector<OutputFile>> {
      const std::string name = inputs.at(0).name;
      {
        std::lock_guard lock(mutex_);
        started_.push_back(name);
      }
      changed_.notify_all();
      context.report({"work", 1, 4});
      std::unique_lock lock(mutex_);
      while (!released_) {
        if (context.cancelled()) return fail(ErrorCode::cancelled, "stopped");
        changed_.wait_for(lock, 10ms);
      }
      if (fail_with_) return fail(*fail_with_);
      test::write_text(context.output_dir / (name + ".out"), "output of " + name);
      return std::vector<OutputFile>{{name + ".out", context.output_dir / (name + ".out")}};
    };
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }
  void fail_with(Error error) {
    std::lock_guard lock(mutex_);
    fail_with_ = std::move(error);
  }
  bool wait_started(std::size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kWait, [&] { return started_.size() >= count; });
  }
  std::vector<std::string> started() {
    std::lock_guard lock(mutex_);
    return started_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> started_;
  bool released_ = false;
  std::optional<Error> fail_with_;
};

class JobManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_text(store_.upload_path(upload_sha_), "media");
  }

  std::unique_ptr<JobManager> make_manager(JobRunner runner) {
    JobManagerOptions options;
    options.runner = std::move(runner);
    options.resolve_inputs = make_input_resolver(store_, 0);
    options.persist_interval = 0ms;
    auto manager = std::make_unique<JobManager>(store_, std::move(options));
    manager->load();
    manager->start();
    return manager;
  }

  config::JobSpec spec(const std::string& input_name) const {
    config::JobSpec spec;
    config::InputRef input;
    input.upload_sha256 = upload_sha_;
    input.name = input_name;
    spec.inputs.push_back(input);
    spec.params = config::ConvertParams{};
    return spec;
  }

  std::string submit(JobManager& manager, const std::string& input_name) {
    auto submitted = manager.submit(spec(input_name));
    EXPECT_TRUE(submitted) << submitted.error().describe();
    return submitted ? submitted->view.job.id : "";
  }

  static bool wait_for_state(JobManager& manager, const std::string& id, JobState state) {
    return test::wait_until(
        [&] {
          auto view = manager.get(id);
          return view && view->job.state == state;
        },
        kWait);
  }

  test::TempDir dir_{"ferry-job-manager"};
  JobStore store_ = *JobStore::open(dir_.path() / "jobs");
  std::string upload_sha_ = sha256_hex("media");
};

TEST_F(JobManagerTest, KeepsWhatTheEngineReportsAsTheJobsResultAndPersistsIt) {
  auto manager = make_manager([](const config::JobParams&, const std::vector<LocalInput>&,
                                 EngineContext& context) -> Result<std::vector<OutputFile>> {
    test::write_text(context.output_dir / "x.out", "x");
    context.result = {{"fallback", true}, {"fallback_reason", "no steady beat"}};
    return std::vector<OutputFile>{{"x.out", context.output_dir / "x.out"}};
  });
  const auto id = submit(*manager, "a");
  ASSERT_TRUE(wait_for_state(*manager, id, JobState::succeeded));
  EXPECT_EQ(manager->get(id)->job.result["fallback_reason"], "no steady beat");
  manager.reset();
  auto record = nlohmann::json::parse(test::read_text(store_.record_path(id)), nullptr, false);
  EXPECT_EQ(record["result"]["fallback"], true) << record.dump();
}

TEST_F(JobManagerTest, AFailedJobHasNoResult) {
  auto manager = make_manager([](const config::JobParams&, const std::vector<LocalInput>&,
                                 EngineContext& context) -> Result<std::vector<OutputFile>> {
    context.result = {{"partial", true}};
    return fail(ErrorCode::io_error, "disk full");
  });
  const auto id = submit(*manager, "a");
  ASSERT_TRUE(wait_for_state(*manager, id, JobState::failed));
  EXPECT_TRUE(manager->get(id)->job.result.is_null());
}

TEST_F(JobManagerTest, RunsJobsOneAtATimeInSubmissionOrder) {
  GatedRunner gate;
  auto manager = make_manager(gate.runner());
  const auto a = submit(*manager, "a");
  const auto b = submit(*manager, "b");
  const auto c = submit(*manager, "c");
  ASSERT_TRUE(gate.wait_started(1));
  EXPECT_EQ(manager->get(b)->queue_position, 0u);
  EXPECT_EQ(manager->get(c)->queue_position, 1u);
  EXPECT_TRUE(manager->busy());
  gate.release();
  ASSERT_TRUE(wait_for_state(*manager, c, JobState::succeeded));
  EXPECT_EQ(gate.started(), (std::vector<std::string>{"a", "b", "c"}));
  auto done = manager->get(a);
  ASSERT_EQ(done->job.outputs.size(), 1u);
  EXPECT_EQ(done->job.outputs[0].name, "a.out");
  EXPECT_EQ(done->job.outputs[0].sha256, sha256_hex("output of a"));
  EXPECT_EQ(done->job.outputs[0].bytes, std::string("output of a").size());
  EXPECT_EQ(done->job.attempts, 1);
  EXPECT_TRUE(done->job.finished_at);
  EXPECT_FALSE(std::filesystem::exists(store_.scratch_dir(a)));
  EXPECT_TRUE(test::wait_until([&] { return !manager->busy(); }, kWait));
}

TEST_F(JobManagerTest, ProgressIsServedLiveWhileRunning) {
  GatedRunner gate;
  auto manager = make_manager(gate.runner());
  const auto id = submit(*manager, "a");
  ASSERT_TRUE(gate.wait_started(1));
  ASSERT_TRUE(test::wait_until([&] { return manager->get(id)->job.progress.stage == "work"; }, kWait));
  auto view = manager->get(id);
  EXPECT_EQ(view->job.state, JobState::running);
  EXPECT_DOUBLE_EQ(*view->job.progress.fraction(), 0.25);
  gate.release();
}

TEST_F(JobManagerTest, CancellingAQueuedJobIsImmediateAndItNeverRuns) {
  GatedRunner gate;
  auto manager = make_manager(gate.runner());
  const auto a = submit(*manager, "a");
  const auto b = submit(*manager, "b");
  ASSERT_TRUE(gate.wait_started(1));
  auto canceled = manager->cancel(b);
  ASSERT_TRUE(canceled);
  EXPECT_EQ(canceled->job.state, JobState::canceled);
  EXPECT_EQ(canceled->job.error->code, ErrorCode::cancelled);
  gate.release();
  ASSERT_TRUE(wait_for_state(*manager, a, JobState::succeeded));
  EXPECT_EQ(gate.started(), std::vector<std::string>{"a"});
}

TEST_F(JobManagerTest, CancellingARunningJobStopsTheRunner) {
  GatedRunner gate;
  auto manager = make_manager(gate.runner());
  const auto id = submit(*manager, "a");
  ASSERT_TRUE(gate.wait_started(1));
  auto view = manager->cancel(id);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->job.state, JobState::running) << "the state changes when the runner returns";
  ASSERT_TRUE(wait_for_state(*manager, id, JobState::canceled));
  EXPECT_EQ(manager->get(id)->job.error->code, ErrorCode::cancelled);
}

TEST_F(JobManagerTest, CancellingAFinishedJobIsAFailedPrecondition) {
  GatedRunner gate;
  gate.release();
  auto manager = make_manager(gate.runner());
  const auto id = submit(*manager, "a");
  ASSERT_TRUE(wait_for_state(*manager, id, JobState::succeeded));
  auto again = manager->cancel(id);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::failed_precondition);
  EXPECT_NE(again.error().message.find("succeeded"), std::string::npos);
}

TEST_F(JobManagerTest, RunnerErrorsFailTheJobWithTheirCode) {
  GatedRunner gate;
  gate.fail_with(Error{ErrorCode::unsupported, "no such codec", "params.format"});
  gate.release();
  auto manager = make_manager(gate.runner());
  const auto id = submit(*manager, "a");
  ASSERT_TRUE(wait_for_state(*manager, id, JobState::failed));
  auto job = manager->get(id)->job;
  EXPECT_EQ(job.error->code, ErrorCode::unsupported);
  EXPECT_EQ(job.error->message, "no such codec");
  auto output = manager->output(id, "a.out");
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().code, ErrorCode::failed_precondition);
}

TEST_F(JobManagerTest, RunnerExceptionsBecomeInternalFailures) {
  auto manager = make_manager([](const config::JobParams&, const std::vector<LocalInput>&,
                                 EngineContext&) -> Result<std::vector<OutputFile>> {
    throw std::runtime_error("boom");
  });
  const auto id = submit(*manager, "a");
  ASSERT_TRUE(wait_for_state(*manager, id, JobState::failed));
  EXPECT_EQ(manager->get(id)->job.error->code, ErrorCode::internal);
}

TEST_F(JobManagerTest, OutputsWithUnsafeNamesFailTheJob) {
  auto manager = make_manager([](const config::JobParams&, const std::vector<LocalInput>&,
                                 EngineContext& context) -> Result<std::vector<OutputFile>> {
    return std::vector<OutputFile>{{"../escape", context.output_dir / "../escape"}};
  });
  const auto id = submit(*manager, "a");
  ASSERT_TRUE(wait_for_state(*manager, id, JobState::failed));
  EXPECT_EQ(manager->get(id)->job.error->code, ErrorCode::internal);
}

TEST_F(JobManagerTest, PutIsIdempotentForTheSameSpecOnly) {
  GatedRunner gate;
  auto manager = make_manager(gate.runner());
  auto first = manager->submit(spec("a"), "client-id");
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->created);
  auto again = manager->submit(spec("a"), "client-id");
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->view.job.id, "client-id");
  auto different = manager->submit(spec("b"), "client-id");
  ASSERT_FALSE(different);
  EXPECT_EQ(different.error().code, ErrorCode::already_exists);
  EXPECT_EQ(manager->list().size(), 1u);
  gate.release();
}

TEST_F(JobManagerTest, MissingUploadsAreRejectedAtSubmit) {
  GatedRunner gate;
  auto manager = make_manager(gate.runner());
  auto bad = spec("a");
  bad.inputs[0].upload_sha256 = sha256_hex("never uploaded");
  auto submitted = manager->submit(bad);
  ASSERT_FALSE(submitted);
  EXPECT_EQ(submitted.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(submitted.error().field, "inputs[0].upload");
  EXPECT_NE(submitted.error().message.find("/v1/uploads"), std::string::npos);
  EXPECT_TRUE(manager->list().empty());
}

TEST_F(JobManagerTest, RemovingARunningJobStopsItAndDeletesItsFolder) {
  GatedRunner gate;
  auto manager = make_manager(gate.runner());
  const auto id = submit(*manager, "a");
  ASSERT_TRUE(gate.wait_started(1));
  ASSERT_TRUE(manager->remove(id));
  EXPECT_EQ(manager->get(id).error().code, ErrorCode::not_found);
  EXPECT_TRUE(test::wait_until([&] { return !std::filesystem::exists(store_.job_dir(id)); }, kWait));
  EXPECT_EQ(manager->remove(id).error().code, ErrorCode::not_found);
}

TEST_F(JobManagerTest, WatchersFireOnChangeAndNotForStaleVersions) {
  GatedRunner gate;
  auto manager = make_manager(gate.runner());
  const auto id = submit(*manager, "a");
  ASSERT_TRUE(gate.wait_started(1));
  auto view = manager->get(id);
  EXPECT_FALSE(manager->watch(id, view->version - 1, [] {})) << "a stale version answers at once";
  std::atomic<int> fired{0};
  auto watch = manager->watch(id, view->version, [&] { ++fired; });
  ASSERT_TRUE(watch);
  ASSERT_TRUE(manager->cancel(id));
  EXPECT_TRUE(test::wait_until([&] { return fired.load() == 1; }, kWait));
  ASSERT_TRUE(wait_for_state(*manager, id, JobState::canceled));
  EXPECT_EQ(fired.load(), 1) << "watchers fire once";
}

TEST_F(JobManagerTest, OutputLookupNamesWhatExists) {
  GatedRunner gate;
  gate.release();
  auto manager = make_manager(gate.runner());
  const auto id = submit(*manager, "a");
  ASSERT_TRUE(wait_for_state(*manager, id, JobState::succeeded));
  auto found = manager->output(id, "a.out");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->path, store_.outputs_dir(id) / "a.out");
  auto missing = manager->output(id, "b.out");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  EXPECT_NE(missing.error().message.find("a.out"), std::string::npos);
}

TEST_F(JobManagerTest, ShutdownRequeuesTheRunningJobForTheNextStart) {
  std::string id;
  {
    GatedRunner gate;
    auto manager = make_manager(gate.runner());
    id = submit(*manager, "a");
    ASSERT_TRUE(gate.wait_started(1));
    EXPECT_TRUE(manager->shutdown(kWait));
  }
  auto loaded = store_.load_all();
  ASSERT_EQ(loaded.jobs.size(), 1u);
  EXPECT_EQ(loaded.jobs[0].state, JobState::queued);
  EXPECT_EQ(loaded.jobs[0].attempts, 1);

  GatedRunner gate;
  gate.release();
  auto restarted = make_manager(gate.runner());
  ASSERT_TRUE(wait_for_state(*restarted, id, JobState::succeeded));
  EXPECT_EQ(restarted->get(id)->job.attempts, 2);
}

TEST_F(JobManagerTest, RestartRerunsInterruptedJobsAndFailsThemAfterThreeAttempts) {
  auto record = [&](const std::string& id, JobState state, int attempts) {
    Job job;
    job.id = id;
    job.kind = "convert";
    job.state = state;
    job.attempts = attempts;
    job.spec = config::job_spec_to_json(spec(id));
    job.created_at = Clock::now();
    ASSERT_TRUE(store_.create(job));
  };
  record("interrupted", JobState::running, 1);
  test::write_text(store_.outputs_dir("interrupted") / "partial.out", "half");
  record("hopeless", JobState::running, kMaxAttempts);
  record("waiting", JobState::queued, 0);

  GatedRunner gate;
  gate.release();
  auto manager = make_manager(gate.runner());
  ASSERT_TRUE(wait_for_state(*manager, "interrupted", JobState::succeeded));
  ASSERT_TRUE(wait_for_state(*manager, "waiting", JobState::succeeded));
  EXPECT_FALSE(std::filesystem::exists(store_.outputs_dir("interrupted") / "partial.out"));
  EXPECT_EQ(manager->get("interrupted")->job.attempts, 2);
  auto hopeless = manager->get("hopeless");
  EXPECT_EQ(hopeless->job.state, JobState::failed);
  EXPECT_EQ(hopeless->job.error->message,
            "interrupted: the agent stopped while this job was running (3 attempts)");
  EXPECT_EQ(gate.started(), (std::vector<std::string>{"interrupted", "waiting"}));
}

}  // namespace
}  // namespace ferry::agent::jobs
