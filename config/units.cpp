#include "config/units.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

namespace ferry::config {
namespace {

constexpr std::string_view kSizeExample = "a size like 40GB, 512MB or 16GiB";
constexpr std::string_view kDurationExample = "a duration like 90s, 10m, 1h30m or 500ms";
constexpr std::string_view kMoneyExample = "an amount of dollars like 3.00 or $0.50";
constexpr std::string_view kSizeRangeExample = "a size range like 16GB.. or 24GB..80GB";
constexpr std::string_view kNumberRangeExample = "a number range like 1, 1..4, 2.. or ..0.5";

Error invalid(std::string message) { return Error{ErrorCode::invalid_argument, std::move(message), {}}; }

Error expected(std::string_view what, std::string_view text) {
  return invalid(fmt::format("expected {}, got \"{}\"", what, text));
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

void skip_spaces(std::string_view& text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Takes a leading unsigned decimal ("12", "1.5") off `text`. Deliberately
// stricter than from_chars: no sign, exponent, "inf" or "nan".
std::optional<std::string_view> take_number(std::string_view& text) {
  std::size_t end = 0;
  while (end < text.size() && is_digit(text[end])) ++end;
  if (end == 0) return std::nullopt;
  if (end < text.size() && text[end] == '.') {
    std::size_t fraction_end = end + 1;
    while (fraction_end < text.size() && is_digit(text[fraction_end])) ++fraction_end;
    if (fraction_end == end + 1) return std::nullopt;  // "1." is a typo, not a number
    end = fraction_end;
  }
  auto number = text.substr(0, end);
  text.remove_prefix(end);
  return number;
}

std::optional<double> to_double(std::string_view number) {
  double value = 0;
  auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (error != std::errc{} || end != number.data() + number.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

// A whole non-negative decimal number, as the only content of `text`.
std::optional<double> parse_plain_number(std::string_view text) {
  auto rest = text;
  auto number = take_number(rest);
  if (!number || !rest.empty()) return std::nullopt;
  return to_double(*number);
}

struct SizeUnit {
  std::string_view name;
  std::uint64_t bytes;
};
constexpr std::array<SizeUnit, 10> kSizeUnits{{
    {"", 1},
    {"b", 1},
    {"kb", 1000ull},
    {"mb", 1000ull * 1000},
    {"gb", 1000ull * 1000 * 1000},
    {"tb", 1000ull * 1000 * 1000 * 1000},
    {"kib", 1ull << 10},
    {"mib", 1ull << 20},
    {"gib", 1ull << 30},
    {"tib", 1ull << 40},
}};

struct DurationUnit {
  std::string_view name;
  std::int64_t milliseconds;
};
// Largest first: components must follow this order ("1h30m", not "30m1h").
constexpr std::array<DurationUnit, 5> kDurationUnits{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

std::optional<std::size_t> duration_unit_index(std::string_view name) {
  for (std::size_t i = 0; i < kDurationUnits.size(); ++i)
    if (equals_ignoring_case(kDurationUnits[i].name, name)) return i;
  return std::nullopt;
}

// Rejects a leading minus with its own message: "expected a size" would not
// tell the user that the sign is the problem.
std::optional<Error> negative_problem(std::string_view trimmed, std::string_view what) {
  auto unsigned_part = trimmed;
  if (!unsigned_part.empty() && unsigned_part.front() == '$') unsigned_part.remove_prefix(1);
  if (!unsigned_part.empty() && unsigned_part.front() == '-')
    return invalid(fmt::format("{} cannot be negative, got \"{}\"", what, trimmed));
  return std::nullopt;
}

template <class T, class ParseEnd>
Result<Range<T>> parse_range(std::string_view text, std::string_view example, ParseEnd parse_end) {
  auto trimmed = trim(text);
  auto separator = trimmed.find("..");
  Range<T> range;
  auto parse_end_into = [&](std::string_view end_text, std::optional<T>& out) -> bool {
    auto value = parse_end(trim(end_text));
    if (!value) return false;
    out = *value;
    return true;
  };
  if (separator == std::string_view::npos) {
    if (!parse_end_into(trimmed, range.min)) return fail(expected(example, text));
    range.max = range.min;
    return range;
  }
  auto low = trimmed.substr(0, separator);
  auto high = trimmed.substr(separator + 2);
  if (trim(low).empty() && trim(high).empty()) return fail(expected(example, text));
  if (!trim(low).empty() && !parse_end_into(low, range.min)) return fail(expected(example, text));
  if (!trim(high).empty() && !parse_end_into(high, range.max)) return fail(expected(example, text));
  if (range.min && range.max && *range.min > *range.max)
    return fail(
        invalid(fmt::format("range \"{}\" has its minimum above its maximum; write the smaller end first", trimmed)));
  return range;
}

}  // namespace

Result<std::uint64_t> parse_size(std::string_view text) {
  auto trimmed = trim(text);
  if (auto negative = negative_problem(trimmed, "a size")) return fail(*negative);
  auto rest = trimmed;
  auto number = take_number(rest);
  if (!number) return fail(expected(kSizeExample, text));
  skip_spaces(rest);
  const SizeUnit* unit = nullptr;
  for (const auto& candidate : kSizeUnits)
    if (equals_ignoring_case(candidate.name, rest)) unit = &candidate;
  if (!unit) return fail(expected(kSizeExample, text));

  // Whole and fractional parts apart, so large byte counts stay exact
  // instead of passing through a double.
  auto dot = number->find('.');
  auto whole_digits = number->substr(0, dot);
  std::uint64_t whole = 0;
  auto [end, error] = std::from_chars(whole_digits.data(), whole_digits.data() + whole_digits.size(), whole);
  std::uint64_t bytes = 0;
  std::uint64_t fraction_bytes = 0;
  if (dot != std::string_view::npos)
    fraction_bytes = static_cast<std::uint64_t>(std::llround(*to_double(number->substr(dot)) * unit->bytes));
  if (error != std::errc{} || __builtin_mul_overflow(whole, unit->bytes, &bytes) ||
      __builtin_add_overflow(bytes, fraction_bytes, &bytes))
    return fail(invalid(fmt::format("size \"{}\" is too large", trimmed)));
  return bytes;
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  auto trimmed = trim(text);
  if (auto negative = negative_problem(trimmed, "a duration")) return fail(*negative);
  if (auto seconds = parse_plain_number(trimmed)) {
    if (*seconds * 1000.0 >= 9.2e18) return fail(invalid(fmt::format("duration \"{}\" is too long", trimmed)));
    return std::chrono::milliseconds(std::llround(*seconds * 1000.0));
  }

  auto rest = trimmed;
  double total_ms = 0;
  std::optional<std::size_t> previous_unit;
  while (true) {
    skip_spaces(rest);
    if (rest.empty()) break;
    auto number = take_number(rest);
    if (!number) return fail(expected(kDurationExample, text));
    skip_spaces(rest);
    std::size_t unit_length = 0;
    while (unit_length < rest.size() && std::isalpha(static_cast<unsigned char>(rest[unit_length]))) ++unit_length;
    auto unit = duration_unit_index(rest.substr(0, unit_length));
    rest.remove_prefix(unit_length);
    if (!unit) return fail(expected(kDurationExample, text));
    if (previous_unit && *unit <= *previous_unit)
      return fail(invalid(fmt::format("expected {} with the largest unit first and each unit once, got \"{}\"",
                                      kDurationExample, text)));
    previous_unit = unit;
    auto value = to_double(*number);
    if (!value) return fail(invalid(fmt::format("duration \"{}\" is too long", trimmed)));
    total_ms += *value * static_cast<double>(kDurationUnits[*unit].milliseconds);
  }
  if (!previous_unit) return fail(expected(kDurationExample, text));
  // int64 milliseconds end near 9.22e18; stay clear of the rounding edge.
  if (!(total_ms < 9.2e18)) return fail(invalid(fmt::format("duration \"{}\" is too long", trimmed)));
  return std::chrono::milliseconds(std::llround(total_ms));
}

Result<double> parse_money(std::string_view text) {
  auto trimmed = trim(text);
  if (auto negative = negative_problem(trimmed, "an amount of money")) return fail(*negative);
  auto digits = trimmed;
  if (!digits.empty() && digits.front() == '$') digits.remove_prefix(1);
  auto rest = digits;
  auto number = take_number(rest);
  if (!number || !rest.empty()) return fail(expected(kMoneyExample, text));
  auto value = to_double(*number);
  if (!value) return fail(invalid(fmt::format("amount \"{}\" is too large", trimmed)));
  return *value;
}

std::string format_duration(std::chrono::milliseconds duration) {
  std::int64_t count = duration.count();
  if (count < 0) {
    // Unsigned negation: -INT64_MIN does not fit in int64.
    std::uint64_t magnitude = 0 - static_cast<std::uint64_t>(count);
    if (magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      magnitude = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    return "-" + format_duration(std::chrono::milliseconds(static_cast<std::int64_t>(magnitude)));
  }
  if (count == 0) return "0s";
  if (count < 1000) return fmt::format("{}ms", count);
  std::string text;
  std::int64_t hours = count / 3'600'000;
  std::int64_t minutes = count / 60'000 % 60;
  std::int64_t seconds = count / 1000 % 60;
  std::int64_t millis = count % 1000;
  if (hours > 0) text += fmt::format("{}h", hours);
  if (minutes > 0) text += fmt::format("{}m", minutes);
  if (seconds > 0 || millis > 0) {
    std::string fraction;
    if (millis > 0) {
      fraction = fmt::format(".{:03}", millis);
      while (fraction.back() == '0') fraction.pop_back();
    }
    text += fmt::format("{}{}s", seconds, fraction);
  }
  return text;
}

std::string format_size(std::uint64_t bytes) {
  constexpr std::array<std::string_view, 7> kUnits{"B", "KB", "MB", "GB", "TB", "PB", "EB"};
  if (bytes < 1000) return fmt::format("{} B", bytes);
  std::size_t unit = 0;
  double value = static_cast<double>(bytes);
  // Move up while the rounded figure would read 1000 or more ("1 MB", not "1000.0 KB").
  while (unit + 1 < kUnits.size() && std::round(value * 10.0) / 10.0 >= 1000.0) {
    value /= 1000.0;
    ++unit;
  }
  double rounded = std::round(value * 10.0) / 10.0;
  if (rounded == std::floor(rounded)) return fmt::format("{:.0f} {}", rounded, kUnits[unit]);
  return fmt::format("{:.1f} {}", rounded, kUnits[unit]);
}

Result<Range<std::uint64_t>> parse_size_range(std::string_view text) {
  return parse_range<std::uint64_t>(text, kSizeRangeExample, [](std::string_view end) { return parse_size(end); });
}

Result<Range<double>> parse_number_range(std::string_view text) {
  return parse_range<double>(text, kNumberRangeExample, [](std::string_view end) -> Result<double> {
    auto value = parse_plain_number(end);
    if (!value) return fail(expected(kNumberRangeExample, end));
    return *value;
  });
}

}  // namespace ferry::config
