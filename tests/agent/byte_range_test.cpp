#include "agent/http/byte_range.hpp"

#include <gtest/gtest.h>

namespace ferry::agent::http {
namespace {

void expect_partial(std::string_view header, std::uint64_t size, std::uint64_t first, std::uint64_t last) {
  auto decision = decide_range(header, size);
  ASSERT_EQ(decision.kind, RangeDecision::partial) << header;
  EXPECT_EQ(decision.range.first, first) << header;
  EXPECT_EQ(decision.range.last, last) << header;
}

TEST(DecideRange, NoHeaderMeansTheWholeFile) { EXPECT_EQ(decide_range("", 100).kind, RangeDecision::whole); }

TEST(DecideRange, ClosedOpenAndSuffixForms) {
  expect_partial("bytes=0-9", 100, 0, 9);
  expect_partial("bytes=90-", 100, 90, 99);
  expect_partial("bytes=-10", 100, 90, 99);
  expect_partial("bytes=5-5", 100, 5, 5);
}

TEST(DecideRange, EndsPastTheFileAreClamped) {
  expect_partial("bytes=50-1000", 100, 50, 99);
  expect_partial("bytes=-1000", 100, 0, 99);
}

TEST(DecideRange, StartAtOrPastTheEndIsUnsatisfiable) {
  EXPECT_EQ(decide_range("bytes=100-", 100).kind, RangeDecision::unsatisfiable);
  EXPECT_EQ(decide_range("bytes=200-300", 100).kind, RangeDecision::unsatisfiable);
  EXPECT_EQ(decide_range("bytes=-0", 100).kind, RangeDecision::unsatisfiable);
  EXPECT_EQ(decide_range("bytes=0-", 0).kind, RangeDecision::unsatisfiable);
}

TEST(DecideRange, UnsupportedOrMalformedRangesAreIgnored) {
  EXPECT_EQ(decide_range("bytes=0-1,5-6", 100).kind, RangeDecision::whole);
  EXPECT_EQ(decide_range("items=0-1", 100).kind, RangeDecision::whole);
  EXPECT_EQ(decide_range("bytes=9-3", 100).kind, RangeDecision::whole);
  EXPECT_EQ(decide_range("bytes=abc", 100).kind, RangeDecision::whole);
  EXPECT_EQ(decide_range("bytes=1x-2", 100).kind, RangeDecision::whole);
  EXPECT_EQ(decide_range("bytes=-", 100).kind, RangeDecision::whole);
}

TEST(ByteRange, LengthIsInclusive) { EXPECT_EQ((ByteRange{10, 19}.length()), 10u); }

}  // namespace
}  // namespace ferry::agent::http
