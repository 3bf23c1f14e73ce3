#include "config/suggest.hpp"

#include <algorithm>
#include <numeric>
#include <vector>

namespace ferry::config {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (prefix.size() > text.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (lower(text[i]) != lower(prefix[i])) return false;
  return true;
}

// Longer words tolerate more typos; short ones only one, or "aac" would
// suggest "wav".
std::size_t tolerated_distance(std::string_view word) {
  if (word.size() <= 4) return 1;
  if (word.size() <= 8) return 2;
  return 3;
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // One row of the classic dynamic programme is enough.
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      std::size_t substitution = diagonal + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitution});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string_view> closest_match(std::string_view word, std::span<const std::string_view> candidates) {
  std::optional<std::string_view> best;
  std::size_t best_distance = tolerated_distance(word) + 1;
  for (std::string_view candidate : candidates) {
    std::size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  if (best) return best;
  // A truncated name ("segment" for "segment_s") is far in edits but obvious.
  if (word.size() >= 3)
    for (std::string_view candidate : candidates)
      if (starts_with_ignoring_case(candidate, word)) return candidate;
  return std::nullopt;
}

std::string join_names(std::span<const std::string_view> candidates) {
  std::string joined;
  for (std::string_view candidate : candidates) {
    if (!joined.empty()) joined += ", ";
    joined += candidate;
  }
  return joined;
}

std::string unknown_name_message(std::string_view what, std::string_view word,
                                 std::span<const std::string_view> candidates) {
  std::string message = "unknown " + std::string(what) + " '" + std::string(word) + "'";
  if (auto match = closest_match(word, candidates)) return message + " (did you mean '" + std::string(*match) + "'?)";
  return message + " (expected one of: " + join_names(candidates) + ")";
}

}  // namespace ferry::config
