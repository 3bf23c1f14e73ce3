// Handing jobs to instances: order, awaited entries, lost instances.

#include <gtest/gtest.h>

#include "controller/job_board.hpp"

namespace ferry::controller {
namespace {

TEST(JobBoard, HandsOutReadyJobsInPlanOrderOncePerJob) {
  JobBoard board({0, 0, 0}, {false, false, false});
  EXPECT_EQ(board.ready_count(), 3u);
  EXPECT_EQ(board.take(0), 0u);
  EXPECT_EQ(board.ready_count(), 2u);
  EXPECT_EQ(board.take(1), 1u);
  EXPECT_EQ(board.take(0), 2u);
  EXPECT_FALSE(board.take(1));
  EXPECT_EQ(board.instance_of(1), 1u);
  EXPECT_FALSE(board.has_unassigned());
  EXPECT_FALSE(board.all_done());
  for (std::size_t job = 0; job < 3; ++job) board.finish(job);
  EXPECT_TRUE(board.all_done());
  EXPECT_TRUE(board.unfinished().empty());
}

TEST(JobBoard, AwaitedJobsWaitForEveryEarlierEntry) {
  // Entry 0 has two jobs; entry 1 waits on them; entry 2 is independent.
  JobBoard board({0, 0, 1, 2}, {false, false, true, false});
  EXPECT_TRUE(board.release_awaited().empty());
  EXPECT_EQ(board.take(0), 0u);
  EXPECT_EQ(board.take(0), 1u);
  EXPECT_EQ(board.take(0), 3u) << "the waiting job is skipped, a later ready one is not";
  EXPECT_TRUE(board.has_unassigned()) << "the waiting job is still to come";
  board.finish(0);
  EXPECT_TRUE(board.release_awaited().empty()) << "one earlier job is still running";
  board.finish(1);
  EXPECT_EQ(board.release_awaited(), std::vector<std::size_t>{2});
  EXPECT_EQ(board.take(1), 2u);
}

TEST(JobBoard, AJobOfALostInstanceGoesBackOnceThenFails) {
  JobBoard board({0}, {false}, 2);
  ASSERT_EQ(board.take(0), 0u);
  EXPECT_TRUE(board.give_back(0));
  EXPECT_EQ(board.slot(0), JobBoard::Slot::ready);
  ASSERT_EQ(board.take(1), 0u);
  EXPECT_EQ(board.attempts(0), 2);
  EXPECT_FALSE(board.give_back(0)) << "two attempts used";
  EXPECT_EQ(board.slot(0), JobBoard::Slot::running) << "the caller fails and finishes it";
  board.finish(0);
  EXPECT_FALSE(board.give_back(0)) << "a finished job is not given back";
  EXPECT_TRUE(board.all_done());
}

}  // namespace
}  // namespace ferry::controller
