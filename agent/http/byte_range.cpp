#include "agent/http/byte_range.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

namespace ferry::agent::http {
namespace {

std::optional<std::uint64_t> parse_position(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

}  // namespace

RangeDecision decide_range(std::string_view range_header, std::uint64_t size) {
  RangeDecision whole_file;
  std::string_view spec = trim(range_header);
  constexpr std::string_view kUnit = "bytes=";
  if (spec.substr(0, kUnit.size()) != kUnit) return whole_file;
  spec = trim(spec.substr(kUnit.size()));
  if (spec.find(',') != std::string_view::npos) return whole_file;
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return whole_file;
  auto first_text = trim(spec.substr(0, dash));
  auto last_text = trim(spec.substr(dash + 1));

  RangeDecision unsatisfiable{RangeDecision::unsatisfiable, {}};
  if (first_text.empty()) {
    // Suffix form: the last n bytes.
    auto suffix = parse_position(last_text);
    if (!suffix) return whole_file;
    if (*suffix == 0 || size == 0) return unsatisfiable;
    const std::uint64_t length = std::min(*suffix, size);
    return {RangeDecision::partial, {size - length, size - 1}};
  }
  auto first = parse_position(first_text);
  if (!first) return whole_file;
  std::uint64_t last = size == 0 ? 0 : size - 1;
  if (!last_text.empty()) {
    auto parsed = parse_position(last_text);
    if (!parsed || *parsed < *first) return whole_file;
    last = std::min(*parsed, last);
  }
  if (*first >= size) return unsatisfiable;
  return {RangeDecision::partial, {*first, last}};
}

}  // namespace ferry::agent::http
