// Which listed instances `ferry gc` collects. Pure.

#include <gtest/gtest.h>

#include "controller/gc.hpp"

namespace ferry::controller {
namespace {

using providers::InstanceInfo;
using providers::InstanceState;

InstanceInfo listed(std::string id, std::string label, InstanceState state = InstanceState::running) {
  InstanceInfo info;
  info.id = std::move(id);
  info.label = std::move(label);
  info.state = state;
  return info;
}

TEST(GcClassify, CollectsOrphansSparesLiveRunsAndKeptInstances) {
  auto candidates = classify_listed(
      "vast",
      {listed("1", "ferry:run-a"), listed("2", "ferry:run-live"), listed("3", "ferry:run-b"),
       listed("4", "ferry:run-c", InstanceState::gone), listed("5", "someone-else")},
      [](const std::string& run) { return run == "run-live"; }, [](const std::string& id) { return id == "3"; });
  ASSERT_EQ(candidates.size(), 3u) << "gone instances and foreign labels are left out";
  EXPECT_EQ(candidates[0].instance.id, "1");
  EXPECT_EQ(candidates[0].run_id, "run-a");
  EXPECT_EQ(candidates[0].verdict, GcCandidate::Verdict::collect);
  EXPECT_EQ(candidates[1].verdict, GcCandidate::Verdict::live_run);
  EXPECT_EQ(candidates[2].verdict, GcCandidate::Verdict::kept);
  EXPECT_EQ(candidates[2].provider, "vast");
}

}  // namespace
}  // namespace ferry::controller
