// A run's lease tells `ferry gc` whether its ferry is alive.

#include <gtest/gtest.h>

#include "controller/run_lease.hpp"
#include "tests/support/files.hpp"

namespace ferry::controller {
namespace {

TEST(RunLease, HeldWhileTheLeaseLivesAndFreeAfter) {
  test::TempDir dir{"ferry-lease"};
  EXPECT_FALSE(run_is_alive(dir.path(), "run-1")) << "no lease file: nobody drives it";
  {
    auto lease = RunLease::acquire(dir.path(), "run-1");
    ASSERT_TRUE(lease) << lease.error().message;
    EXPECT_TRUE(run_is_alive(dir.path(), "run-1"));
    EXPECT_FALSE(run_is_alive(dir.path(), "run-2"));
    auto second = RunLease::acquire(dir.path(), "run-1");
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, ErrorCode::failed_precondition);
  }
  EXPECT_FALSE(run_is_alive(dir.path(), "run-1"));
}

TEST(RunLease, RejectsRunIdsThatAreNotSafeFileNames) {
  test::TempDir dir{"ferry-lease"};
  EXPECT_FALSE(RunLease::acquire(dir.path(), "../escape"));
  EXPECT_FALSE(run_is_alive(dir.path(), "../escape"));
}

}  // namespace
}  // namespace ferry::controller
