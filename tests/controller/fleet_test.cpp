// Many step-driven workers on a few threads.

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "controller/fleet.hpp"

namespace ferry::controller {
namespace {

using namespace std::chrono_literals;

TEST(Fleet, StepsEveryWorkerToTheEndOnBoundedThreadsNeverTwoStepsOfOneWorkerAtOnce) {
  constexpr int kWorkers = 40;
  constexpr int kSteps = 5;
  std::vector<int> steps_done(kWorkers, 0);
  std::vector<std::atomic<int>> inside(kWorkers);
  std::atomic<bool> overlapped{false};
  std::mutex seen_mutex;
  std::set<std::thread::id> threads_seen;
  std::vector<WorkerStep> workers;
  for (int i = 0; i < kWorkers; ++i) {
    workers.push_back([&, i]() -> std::optional<std::chrono::milliseconds> {
      if (inside[i]++ != 0) overlapped = true;
      {
        std::lock_guard lock(seen_mutex);
        threads_seen.insert(std::this_thread::get_id());
      }
      std::this_thread::sleep_for(1ms);  // a remote call
      int done = ++steps_done[i];
      --inside[i];
      if (done == kSteps) return std::nullopt;
      return done % 2 ? 5ms : 0ms;  // a poll pause, or straight on
    });
  }
  std::atomic<int> ticks{0};
  FleetOptions options;
  options.threads = 4;
  options.tick = [&] { ++ticks; };
  options.tick_interval = 5ms;
  run_fleet(workers, options);
  for (int i = 0; i < kWorkers; ++i) EXPECT_EQ(steps_done[i], kSteps) << "worker " << i;
  EXPECT_FALSE(overlapped);
  EXPECT_LE(threads_seen.size(), 4u);
}

TEST(Fleet, AThrowingStepIsReportedAndRetried) {
  int calls = 0;
  std::vector<std::string> reported;
  std::vector<WorkerStep> workers{[&]() -> std::optional<std::chrono::milliseconds> {
    if (++calls == 1) throw std::runtime_error("boom");
    return std::nullopt;
  }};
  FleetOptions options;
  options.threads = 1;
  run_fleet(workers, options, [&](const char* what) { reported.push_back(what); });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(reported, std::vector<std::string>{"boom"});
}

TEST(Fleet, ThreadsGrowWithInstancesUpToABound) {
  EXPECT_EQ(fleet_threads(0), 1u);
  EXPECT_EQ(fleet_threads(3), 3u);
  EXPECT_LE(fleet_threads(200), 16u);
  EXPECT_EQ(fleet_threads(200), fleet_threads(64));
}

}  // namespace
}  // namespace ferry::controller
