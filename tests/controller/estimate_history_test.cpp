#include "controller/estimate_history.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "controller/cloud_plan.hpp"
#include "controller/machine_plan.hpp"
#include "controller/state_store.hpp"
#include "tests/support/files.hpp"

namespace ferry::controller {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

PastInstance instance(const std::string& provider, double billed_s, double agent_work_s, bool came_up = true,
                      const std::string& run = "run") {
  return PastInstance{provider, billed_s, agent_work_s, came_up, run};
}

PastJob job(const std::string& kind, double expected_s, double work_s) { return PastJob{kind, expected_s, work_s}; }

TEST(EstimateHistory, NoHistoryMeansTheDefaultAllowanceAndTheBuiltInRates) {
  auto calibration = calibrate({}, {});
  auto startup = startup_estimate(calibration, "vast");
  EXPECT_EQ(startup.basis, EstimateBasis::default_allowance);
  EXPECT_EQ(startup.per_instance, expected_startup("vast"));
  EXPECT_EQ(startup.samples, 0u);
  EXPECT_EQ(describe_startup(startup, "vast"), "start-up: 5m per instance, default allowance (no history at vast yet)");
  auto convert = job_time_estimate(calibration, "convert");
  EXPECT_EQ(convert.basis, EstimateBasis::default_allowance);
  EXPECT_DOUBLE_EQ(convert.factor, 1.0);
  EXPECT_EQ(describe_job_time(convert, "convert"), "convert: built-in rate (no history yet)");
}

TEST(EstimateHistory, StartUpIsTheMeanOfBilledTimeLessTheAgentsWork) {
  // Overheads 4, 5 and 6 s.
  auto calibration = calibrate({instance("vast", 10, 6), instance("vast", 7, 2), instance("vast", 6.5, 0.5)}, {});
  auto startup = startup_estimate(calibration, "vast");
  EXPECT_EQ(startup.basis, EstimateBasis::history);
  EXPECT_EQ(startup.per_instance, 5000ms);
  EXPECT_EQ(startup.samples, 3u);
  EXPECT_EQ(describe_startup(startup, "vast"), "start-up: 5s per instance, mean of 3 past vast instances");
}

TEST(EstimateHistory, WorkLongerThanTheBillCountsAsNoOverheadNotANegativeOne) {
  auto calibration = calibrate({instance("fly", 3, 9), instance("fly", 4, 1), instance("fly", 5, 2)}, {});
  EXPECT_EQ(startup_estimate(calibration, "fly").per_instance, 2000ms) << "(0 + 3 + 3) / 3";
}

TEST(EstimateHistory, InstancesThatNeverCameUpAddTheirBillToThoseThatDid) {
  // A failed start billed 9 s; the three that came up had 2 s of overhead each.
  auto calibration = calibrate({instance("runpod", 9, 0, false), instance("runpod", 3, 1),
                                instance("runpod", 4, 2), instance("runpod", 5, 3)},
                               {});
  auto startup = startup_estimate(calibration, "runpod");
  EXPECT_EQ(startup.samples, 3u) << "only instances that came up are samples";
  EXPECT_EQ(startup.per_instance, 5000ms) << "(2 + 2 + 2 + 9) / 3";
}

TEST(EstimateHistory, TooFewInstancesKeepTheDefaultAndSaySo) {
  auto calibration = calibrate({instance("vast", 10, 0), instance("vast", 12, 0), instance("vast", 30, 0, false)}, {});
  auto startup = startup_estimate(calibration, "vast");
  EXPECT_EQ(startup.basis, EstimateBasis::default_allowance);
  EXPECT_EQ(startup.per_instance, expected_startup("vast"));
  EXPECT_EQ(startup.samples, 2u);
  EXPECT_EQ(describe_startup(startup, "vast"),
            "start-up: 5m per instance, default allowance (only 2 past vast instances, 3 needed)");
}

TEST(EstimateHistory, ProvidersAreCalibratedApart) {
  auto calibration = calibrate({instance("vast", 100, 0), instance("fly", 2, 0), instance("vast", 110, 0),
                                instance("fly", 4, 0), instance("vast", 120, 0), instance("fly", 6, 0)},
                               {});
  EXPECT_EQ(startup_estimate(calibration, "vast").per_instance, 110s);
  EXPECT_EQ(startup_estimate(calibration, "fly").per_instance, 4s);
  auto runpod = startup_estimate(calibration, "runpod");
  EXPECT_EQ(runpod.basis, EstimateBasis::default_allowance) << "another provider's history says nothing";
  EXPECT_EQ(runpod.per_instance, expected_startup("runpod"));
}

TEST(EstimateHistory, OnlyTheNewestRunsCountSoAnOldOutlierAgesOut) {
  // Newest first: a run of three 4 s overheads, then a 2 h instance of a run long ago.
  std::vector<PastInstance> history{instance("vast", 4, 0), instance("vast", 4, 0), instance("vast", 4, 0),
                                    instance("vast", 7200, 0, true, "old")};
  CalibrationLimits limits;
  limits.instances_per_provider = 3;
  EXPECT_EQ(startup_estimate(calibrate(history, {}, limits), "vast").per_instance, 4s);
  limits.instances_per_provider = 4;
  EXPECT_EQ(startup_estimate(calibrate(history, {}, limits), "vast").per_instance, milliseconds(1803000))
      << "within the window, the mean keeps the outlier: the bill is a sum";
}

TEST(EstimateHistory, ARunThatFillsTheWindowCountsWhole) {
  // The newest run's last instances started last and lived shortest: taking
  // only them would bias the mean low.
  std::vector<PastInstance> history{instance("vast", 2, 0, true, "big"), instance("vast", 2, 0, true, "big"),
                                    instance("vast", 8, 0, true, "big"), instance("vast", 8, 0, true, "big"),
                                    instance("vast", 100, 0, true, "older")};
  CalibrationLimits limits;
  limits.instances_per_provider = 2;
  auto estimate = startup_estimate(calibrate(history, {}, limits), "vast");
  EXPECT_EQ(estimate.samples, 4u);
  EXPECT_EQ(estimate.per_instance, 5s) << "all four of the big run, none of the older one";
}

TEST(EstimateHistory, JobFactorIsTotalWorkOverTotalPrediction) {
  // A long job weighs more than a short one: 10 + 1 + 1 of work on 20 + 2 + 2 predicted.
  auto calibration = calibrate({}, {job("convert", 20, 10), job("convert", 2, 1), job("convert", 2, 1)});
  auto convert = job_time_estimate(calibration, "convert");
  EXPECT_EQ(convert.basis, EstimateBasis::history);
  EXPECT_DOUBLE_EQ(convert.factor, 0.5);
  EXPECT_EQ(convert.samples, 3u);
  EXPECT_EQ(describe_job_time(convert, "convert"), "convert: 0.50 x the built-in rate, from 3 past jobs");
}

TEST(EstimateHistory, KindsWithoutEnoughHistoryKeepTheBuiltInRate) {
  auto calibration = calibrate({}, {job("convert", 2, 1), job("convert", 2, 1), job("convert", 2, 1),
                                    job("separate", 60, 300), job("separate", 60, 300)});
  EXPECT_EQ(job_time_estimate(calibration, "convert").basis, EstimateBasis::history);
  auto separate = job_time_estimate(calibration, "separate");
  EXPECT_EQ(separate.basis, EstimateBasis::default_allowance);
  EXPECT_DOUBLE_EQ(separate.factor, 1.0);
  EXPECT_EQ(describe_job_time(separate, "separate"), "separate: built-in rate (only 2 past jobs, 3 needed)");
  EXPECT_EQ(job_time_estimate(calibration, "loop").samples, 0u);
}

TEST(EstimateHistory, JobsPredictedToTakeNothingAreLeftOut) {
  auto calibration = calibrate({}, {job("loop", 0, 5), job("loop", 2, 4), job("loop", 2, 4), job("loop", 2, 4)});
  auto loop = job_time_estimate(calibration, "loop");
  EXPECT_EQ(loop.samples, 3u);
  EXPECT_DOUBLE_EQ(loop.factor, 2.0);
}

TEST(EstimateHistory, OnlyTheNewestJobsOfAKindCount) {
  CalibrationLimits limits;
  limits.jobs_per_kind = 3;
  auto calibration =
      calibrate({}, {job("convert", 1, 2), job("convert", 1, 2), job("convert", 1, 2), job("convert", 1, 100)},
                limits);
  EXPECT_DOUBLE_EQ(job_time_estimate(calibration, "convert").factor, 2.0);
}

// A plan of `count` generated jobs (no input files) on `provider`.
Plan generated_plan(const std::string& provider, int count) {
  Plan plan;
  plan.name = "calibrated";
  plan.provider = provider;
  for (int i = 0; i < count; ++i) {
    PlannedJob planned;
    planned.key = "e1-i" + std::to_string(i + 1);
    planned.kind = "generate";
    planned.input.generated = true;
    planned.input.name = "song-" + std::to_string(i);
    config::GenerateParams params;
    params.duration_s = 30;
    planned.params = params;
    plan.jobs.push_back(planned);
  }
  return plan;
}

providers::Offer offer(const std::string& id, double price) {
  providers::Offer made;
  made.id = id;
  made.price_per_hour = price;
  made.gpu_name = "RTX 4090";
  return made;
}

TEST(MachinePlanEstimate, UsesHistoryWhereThereIsSomeAndSaysWhich) {
  config::Manifest manifest;
  manifest.instances = 2;
  const auto plan = generated_plan("vast", 2);
  const std::vector<providers::Offer> ranked{offer("a", 3.6), offer("b", 3.6)};
  const auto built_in = expected_job_time(plan.jobs[0].params, 0);

  auto cold = plan_machines(plan, manifest, ranked);
  EXPECT_EQ(cold.startup.basis, EstimateBasis::default_allowance);
  EXPECT_EQ(cold.estimate.instance_time[0], expected_startup("vast") + built_in);

  // 20 s of overhead per vast instance; generate jobs take a quarter of the built-in time.
  auto calibration = calibrate({instance("vast", 30, 10), instance("vast", 25, 5), instance("vast", 20, 0)},
                               {job("generate", 40, 10), job("generate", 40, 10), job("generate", 40, 10)});
  auto warm = plan_machines(plan, manifest, ranked, calibration);
  EXPECT_EQ(warm.startup.basis, EstimateBasis::history);
  EXPECT_EQ(warm.startup.per_instance, 20s);
  ASSERT_EQ(warm.estimate.instance_time.size(), 2u);
  const auto quarter = milliseconds((built_in.count() + 2) / 4);
  EXPECT_EQ(warm.estimate.instance_time[0], 20s + quarter);
  // $3.60/h is $0.001 a second.
  EXPECT_NEAR(warm.estimate.expected, 2 * 0.001 * std::chrono::duration<double>(20s + quarter).count(), 1e-9);

  const std::string text = describe_machines(warm, manifest);
  EXPECT_NE(text.find("start-up: 20s per instance, mean of 3 past vast instances"), std::string::npos) << text;
  EXPECT_NE(text.find("generate: 0.25 x the built-in rate, from 3 past jobs"), std::string::npos) << text;
  const auto json = machines_to_json(warm);
  EXPECT_EQ(json["estimate"]["startup_seconds"], 20.0);
  EXPECT_EQ(json["estimate"]["startup_basis"]["source"], "history");
  EXPECT_EQ(json["estimate"]["startup_basis"]["samples"], 3);
  EXPECT_EQ(json["estimate"]["job_times"]["generate"]["source"], "history");
  EXPECT_DOUBLE_EQ(json["estimate"]["job_times"]["generate"]["factor"].get<double>(), 0.25);

  const auto cold_json = machines_to_json(cold);
  EXPECT_EQ(cold_json["estimate"]["startup_basis"]["source"], "default");
  EXPECT_EQ(cold_json["estimate"]["job_times"]["generate"]["source"], "default");
  EXPECT_NE(describe_machines(cold, manifest).find("default allowance (no history at vast yet)"), std::string::npos);
}

TEST(MachinePlanEstimate, CalibrationFromAStateDatabaseAndNoneWithoutOne) {
  test::TempDir dir;
  const auto path = dir / "state" / "state.db";
  auto none = load_calibration(path);
  ASSERT_TRUE(none) << none.error().describe();
  EXPECT_TRUE(none->startup_by_provider.empty());
  EXPECT_FALSE(std::filesystem::exists(path.parent_path())) << "looking for history creates nothing";

  {
    auto store = StateStore::open(path);
    ASSERT_TRUE(store);
    RunRecord run;
    run.id = "r";
    run.name = "r";
    run.provider = "fly";
    ASSERT_TRUE(store->create_run(run));
    for (int i = 0; i < 3; ++i) {
      auto row = store->record_intended_instance("r", "fly", 0.1);
      ASSERT_TRUE(row);
      ASSERT_TRUE(store->set_instance_created(*row, "m" + std::to_string(i)));
      ASSERT_TRUE(store->set_instance_ready(*row));
      ASSERT_TRUE(store->set_instance_destroy_accepted(*row));
      ASSERT_TRUE(store->set_instance_state(*row, "destroyed"));
    }
  }
  auto found = load_calibration(path);
  ASSERT_TRUE(found) << found.error().describe();
  auto fly = startup_estimate(*found, "fly");
  EXPECT_EQ(fly.basis, EstimateBasis::history);
  EXPECT_EQ(fly.samples, 3u);
  EXPECT_LT(fly.per_instance, expected_startup("fly")) << "three instances that lived milliseconds";
}

}  // namespace
}  // namespace ferry::controller
