#pragma once
// "Did you mean ...?" for misspelt names: manifest keys, JSON fields, enum
// values, provider names.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ferry::config {

/// Levenshtein distance between `a` and `b`, ignoring ASCII case.
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate `word` was most likely meant to be: a close spelling (a
/// distance that grows with the word's length) or a candidate that starts
/// with it ("bitrate" for "bitrate_kbps"). None when nothing is close.
std::optional<std::string_view> closest_match(std::string_view word, std::span<const std::string_view> candidates);

/// "a, b, c": the candidates for a message.
std::string join_names(std::span<const std::string_view> candidates);

/// "unknown <what> 'word' (did you mean 'x'?)" when one is close, else
/// "unknown <what> 'word' (expected one of: a, b, c)".
std::string unknown_name_message(std::string_view what, std::string_view word,
                                 std::span<const std::string_view> candidates);

}  // namespace ferry::config
