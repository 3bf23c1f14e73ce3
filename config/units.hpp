#pragma once
// The manifest's scalar grammar: sizes ("40GB", "512MB"), durations ("90s",
// "10m", "2h", "1h30m"), money ("3.00", "$0.50") and dstack-style ranges
// ("16GB..", "..0.5", "1..4", "24GB..80GB").

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace ferry::config {

// Every parse error is invalid_argument with a message that quotes the input
// and shows what was expected: expected a size like 40GB, ..., got "40 gigs".

/// Bytes. Decimal units as dstack and the providers use them: 1GB = 10^9;
/// binary units (GiB, MiB) are accepted too. A bare number is bytes.
Result<std::uint64_t> parse_size(std::string_view text);
/// Whole seconds or fractions: "90s", "1.5m", "2h", "1h30m", "500ms", "1d",
/// bare number = seconds; compound parts go from the largest unit down.
/// Negative or non-finite values are invalid; "0" parses (callers decide).
Result<std::chrono::milliseconds> parse_duration(std::string_view text);
/// Dollars, optional leading '$', non-negative.
Result<double> parse_money(std::string_view text);

/// "2h", "10m30s", "1.5s": a short human form.
std::string format_duration(std::chrono::milliseconds duration);
/// "40 GB", "1.5 MB": decimal, for plans and tables.
std::string format_size(std::uint64_t bytes);

/// An inclusive range where either end may be open.
template <class T>
struct Range {
  std::optional<T> min;
  std::optional<T> max;
  bool contains(const T& value) const {
    return (!min || value >= *min) && (!max || value <= *max);
  }
};

/// "A", "A..", "..B", "A..B" with each end parsed by the matching function
/// (number ranges take plain non-negative decimals). A single value means
/// exactly that value. min > max is invalid.
Result<Range<std::uint64_t>> parse_size_range(std::string_view text);
Result<Range<double>> parse_number_range(std::string_view text);

}  // namespace ferry::config
