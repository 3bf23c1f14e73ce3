#include "config/units.hpp"

#include <gtest/gtest.h>

namespace ferry::config {
namespace {

using std::chrono::milliseconds;

// Every rejection is invalid_argument and its message shows the input and
// the fragment that helps (an example, or the reason).
template <class T>
void expect_rejected(const Result<T>& result, std::string_view input, std::string_view hint) {
  SCOPED_TRACE(std::string(input));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(result.error().message.find(std::string(input)), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find(std::string(hint)), std::string::npos) << result.error().message;
}

TEST(ParseSize, ReadsDecimalUnitsAsPowersOfTen) {
  EXPECT_EQ(parse_size("40GB"), 40'000'000'000ull);
  EXPECT_EQ(parse_size("512MB"), 512'000'000ull);
  EXPECT_EQ(parse_size("3KB"), 3'000ull);
  EXPECT_EQ(parse_size("2TB"), 2'000'000'000'000ull);
  EXPECT_EQ(parse_size("1.5GB"), 1'500'000'000ull);
}

TEST(ParseSize, ReadsBinaryUnitsAsPowersOfTwo) {
  EXPECT_EQ(parse_size("16GiB"), 16ull << 30);
  EXPECT_EQ(parse_size("512MiB"), 512ull << 20);
  EXPECT_EQ(parse_size("1KiB"), 1024ull);
  EXPECT_EQ(parse_size("1TiB"), 1ull << 40);
  EXPECT_EQ(parse_size("0.5KiB"), 512ull);
}

TEST(ParseSize, ReadsBareNumbersAsBytes) {
  EXPECT_EQ(parse_size("1234"), 1234ull);
  EXPECT_EQ(parse_size("0"), 0ull);
  EXPECT_EQ(parse_size("7B"), 7ull);
  EXPECT_EQ(parse_size("18446744073709551615"), 18446744073709551615ull);
}

TEST(ParseSize, IgnoresCaseAndSurroundingSpaces) {
  EXPECT_EQ(parse_size(" 40 gb "), 40'000'000'000ull);
  EXPECT_EQ(parse_size("16gib"), 16ull << 30);
}

TEST(ParseSize, RejectsNegativeSizes) { expect_rejected(parse_size("-5GB"), "-5GB", "cannot be negative"); }

TEST(ParseSize, RejectsGarbageWithAnExample) {
  for (std::string_view bad : {"", "GB", "40XB", "forty", "1e9", "1.GB", ".5GB", "nan", "inf", "40 G B", "40GB5"})
    expect_rejected(parse_size(bad), bad, "expected a size like 40GB");
}

TEST(ParseSize, RejectsSizesThatDoNotFitIn64Bits) {
  expect_rejected(parse_size("18446744073709551616"), "18446744073709551616", "too large");
  expect_rejected(parse_size("20000000TB"), "20000000TB", "too large");
  expect_rejected(parse_size("18446744073709551615.9"), "18446744073709551615.9", "too large");
}

TEST(ParseDuration, ReadsEachUnit) {
  EXPECT_EQ(parse_duration("90s"), milliseconds(90'000));
  EXPECT_EQ(parse_duration("10m"), milliseconds(600'000));
  EXPECT_EQ(parse_duration("2h"), milliseconds(7'200'000));
  EXPECT_EQ(parse_duration("1d"), milliseconds(86'400'000));
  EXPECT_EQ(parse_duration("500ms"), milliseconds(500));
}

TEST(ParseDuration, ReadsCompoundsAndFractions) {
  EXPECT_EQ(parse_duration("1h30m"), milliseconds(5'400'000));
  EXPECT_EQ(parse_duration("1h 30m 15s"), milliseconds(5'415'000));
  EXPECT_EQ(parse_duration("1.5m"), milliseconds(90'000));
  EXPECT_EQ(parse_duration("0.25s"), milliseconds(250));
  EXPECT_EQ(parse_duration("1m500ms"), milliseconds(60'500));
}

TEST(ParseDuration, ReadsBareNumbersAsSeconds) {
  EXPECT_EQ(parse_duration("90"), milliseconds(90'000));
  EXPECT_EQ(parse_duration("1.5"), milliseconds(1'500));
  EXPECT_EQ(parse_duration("0"), milliseconds(0));  // a valid parse; callers decide whether 0 is allowed
}

TEST(ParseDuration, RejectsNegativeDurations) {
  expect_rejected(parse_duration("-1h"), "-1h", "cannot be negative");
  expect_rejected(parse_duration("-5"), "-5", "cannot be negative");
}

TEST(ParseDuration, RejectsGarbageWithAnExample) {
  for (std::string_view bad : {"", "abc", "10x", "h", "1e3", "nan", "inf", "1.h", "10 minutes", "1h30"})
    expect_rejected(parse_duration(bad), bad, "expected a duration like 90s");
}

TEST(ParseDuration, RejectsUnitsOutOfOrderOrRepeated) {
  expect_rejected(parse_duration("30m1h"), "30m1h", "largest unit first");
  expect_rejected(parse_duration("1h1h"), "1h1h", "largest unit first");
}

TEST(ParseDuration, RejectsDurationsThatOverflow) {
  expect_rejected(parse_duration("99999999999999999999h"), "99999999999999999999h", "too long");
  expect_rejected(parse_duration("9999999999999999999"), "9999999999999999999", "too long");
}

TEST(ParseMoney, ReadsDollarsWithOrWithoutTheSign) {
  EXPECT_DOUBLE_EQ(*parse_money("3.00"), 3.0);
  EXPECT_DOUBLE_EQ(*parse_money("$0.50"), 0.5);
  EXPECT_DOUBLE_EQ(*parse_money("12"), 12.0);
  EXPECT_DOUBLE_EQ(*parse_money("0"), 0.0);
}

TEST(ParseMoney, RejectsNegativeAmounts) {
  expect_rejected(parse_money("-1"), "-1", "cannot be negative");
  expect_rejected(parse_money("$-0.5"), "$-0.5", "cannot be negative");
}

TEST(ParseMoney, RejectsGarbageWithAnExample) {
  for (std::string_view bad : {"", "$", "abc", "3.00$", "1e3", "3,50", "nan"})
    expect_rejected(parse_money(bad), bad, "expected an amount of dollars like 3.00 or $0.50");
}

TEST(ParseSizeRange, ReadsOpenAndClosedRanges) {
  auto at_least = parse_size_range("16GB..");
  ASSERT_TRUE(at_least);
  EXPECT_EQ(at_least->min, 16'000'000'000ull);
  EXPECT_EQ(at_least->max, std::nullopt);

  auto at_most = parse_size_range("..80GB");
  ASSERT_TRUE(at_most);
  EXPECT_EQ(at_most->min, std::nullopt);
  EXPECT_EQ(at_most->max, 80'000'000'000ull);

  auto between = parse_size_range("24GB..80GB");
  ASSERT_TRUE(between);
  EXPECT_EQ(between->min, 24'000'000'000ull);
  EXPECT_EQ(between->max, 80'000'000'000ull);
}

TEST(ParseSizeRange, ReadsASingleValueAsExactlyThat) {
  auto exact = parse_size_range("16GiB");
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->min, 16ull << 30);
  EXPECT_EQ(exact->max, 16ull << 30);
}

TEST(ParseSizeRange, RejectsGarbageWithAnExample) {
  auto result = parse_size_range("16 gigs");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(result.error().message, "expected a size range like 16GB.. or 24GB..80GB, got \"16 gigs\"");
  for (std::string_view bad : {"..", "", "16GB...", "x..80GB", "16GB..x", "-1GB..2GB"})
    expect_rejected(parse_size_range(bad), bad, "expected a size range like 16GB..");
}

TEST(ParseSizeRange, RejectsAMinimumAboveTheMaximum) {
  expect_rejected(parse_size_range("80GB..24GB"), "80GB..24GB", "minimum above its maximum");
}

TEST(ParseNumberRange, ReadsOpenClosedAndExactRanges) {
  auto closed = parse_number_range("1..4");
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->min, 1.0);
  EXPECT_EQ(closed->max, 4.0);
  auto at_most = parse_number_range("..0.5");
  ASSERT_TRUE(at_most);
  EXPECT_EQ(at_most->min, std::nullopt);
  EXPECT_EQ(at_most->max, 0.5);
  auto at_least = parse_number_range("2..");
  ASSERT_TRUE(at_least);
  EXPECT_EQ(at_least->min, 2.0);
  EXPECT_EQ(at_least->max, std::nullopt);
  auto exact = parse_number_range("3");
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->min, 3.0);
  EXPECT_EQ(exact->max, 3.0);
}

TEST(ParseNumberRange, RejectsBadRanges) {
  expect_rejected(parse_number_range("4..1"), "4..1", "minimum above its maximum");
  for (std::string_view bad : {"-1..4", "a..b", "..", "1..2..3", "1e2"})
    expect_rejected(parse_number_range(bad), bad, "expected a number range like 1, 1..4");
}

TEST(Range, ContainsHonoursOpenEnds) {
  Range<double> closed{1.0, 4.0};
  EXPECT_TRUE(closed.contains(1.0));
  EXPECT_TRUE(closed.contains(4.0));
  EXPECT_FALSE(closed.contains(4.5));
  EXPECT_FALSE(closed.contains(0.5));
  Range<double> at_least{2.0, std::nullopt};
  EXPECT_TRUE(at_least.contains(1e9));
  EXPECT_FALSE(at_least.contains(1.0));
}

TEST(FormatDuration, WritesAShortHumanForm) {
  EXPECT_EQ(format_duration(milliseconds(0)), "0s");
  EXPECT_EQ(format_duration(milliseconds(500)), "500ms");
  EXPECT_EQ(format_duration(milliseconds(1'500)), "1.5s");
  EXPECT_EQ(format_duration(milliseconds(7'200'000)), "2h");
  EXPECT_EQ(format_duration(milliseconds(630'000)), "10m30s");
  EXPECT_EQ(format_duration(milliseconds(3'723'004)), "1h2m3.004s");
  EXPECT_EQ(format_duration(milliseconds(3'605'000)), "1h5s");
  EXPECT_EQ(format_duration(milliseconds(-90'000)), "-1m30s");
  EXPECT_EQ(format_duration(milliseconds(90'000'000)), "25h");
}

TEST(FormatDuration, ParsesBackToTheSameDuration) {
  for (std::int64_t ms : {1, 999, 1'000, 1'001, 59'999, 60'000, 3'599'999, 3'600'000, 86'400'123, 987'654'321})
    EXPECT_EQ(parse_duration(format_duration(milliseconds(ms))), milliseconds(ms)) << ms;
}

TEST(FormatSize, WritesDecimalUnitsWithOneDecimalAtMost) {
  EXPECT_EQ(format_size(0), "0 B");
  EXPECT_EQ(format_size(512), "512 B");
  EXPECT_EQ(format_size(40'000'000'000ull), "40 GB");
  EXPECT_EQ(format_size(1'500'000), "1.5 MB");
  EXPECT_EQ(format_size(1'234'567), "1.2 MB");
  EXPECT_EQ(format_size(999'999), "1 MB");
  EXPECT_EQ(format_size(18446744073709551615ull), "18.4 EB");
}

}  // namespace
}  // namespace ferry::config
