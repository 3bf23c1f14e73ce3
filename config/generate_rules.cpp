#include "config/generate_rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/files.hpp"
#include "config/job_rules.hpp"
#include "config/suggest.hpp"
#include "config/units.hpp"

namespace ferry::config::rules {
namespace {

// Code points, not bytes: a lyric in Hangul is three bytes a character.
std::size_t code_points(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

std::string seconds_text(double seconds) {
  if (std::abs(seconds) < 9e15) return format_duration(std::chrono::milliseconds(std::llround(seconds * 1000.0)));
  return fmt::format("{} s", seconds);
}

template <typename List, typename Value>
bool contains(const List& list, const Value& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

bool is_known_key(std::string_view key) {
  static constexpr std::array<std::string_view, 5> kAccidentals{"", "#", "b", "\u266F", "\u266D"};
  static constexpr std::array<std::string_view, 2> kModes{" major", " minor"};
  if (key.empty() || key.front() < 'A' || key.front() > 'G') return false;
  std::string_view rest = key.substr(1);
  for (std::string_view accidental : kAccidentals) {
    if (!rest.starts_with(accidental)) continue;
    std::string_view mode = rest.substr(accidental.size());
    if (contains(kModes, mode)) return true;
  }
  return false;
}

std::string_view field_name(GenerateField field, const GenerateFieldNames& names) {
  switch (field) {
    case GenerateField::caption:
      return names.caption;
    case GenerateField::lyrics:
      return names.lyrics;
    case GenerateField::language:
      return names.language;
    case GenerateField::duration:
      return names.duration;
    case GenerateField::bpm:
      return names.bpm;
    case GenerateField::key:
      return names.key;
    case GenerateField::time_signature:
      return names.time_signature;
    case GenerateField::batch:
      return names.batch;
    case GenerateField::shift:
      return names.shift;
    case GenerateField::sampler:
      return names.sampler;
    case GenerateField::bitrate:
      return names.bitrate;
    case GenerateField::name:
      return names.name;
    case GenerateField::infer_steps:
      return names.infer_steps;
    case GenerateField::guidance_scale:
      return names.guidance_scale;
  }
  return names.caption;
}

std::optional<GenerateProblem> find_generate_problem(const GenerateParams& params, const GenerateFieldNames& names) {
  using enum GenerateField;
  if (is_blank(params.caption))
    return GenerateProblem{caption, "is empty; describe the music, like \"warm lo-fi hip hop with a soft piano\""};
  if (code_points(params.caption) > kMaxCaptionCodePoints)
    return GenerateProblem{caption, fmt::format("has {} characters, over the limit of {}; the model reads only the "
                                                "first 256 tokens, so keep the description short",
                                                code_points(params.caption), kMaxCaptionCodePoints)};
  if (params.instrumental && !is_blank(params.lyrics))
    return GenerateProblem{lyrics, fmt::format("an instrumental has no lyrics; remove {} or set {} to false",
                                               names.lyrics, names.instrumental)};
  if (code_points(params.lyrics) > kMaxLyricsCodePoints)
    return GenerateProblem{lyrics, fmt::format("have {} characters, over the limit of {}; shorten them (the model "
                                               "reads at most 2048 tokens of lyrics)",
                                               code_points(params.lyrics), kMaxLyricsCodePoints)};
  if (!contains(kGenerateLanguages, params.language))
    return GenerateProblem{language, unknown_name_message("language", params.language, kGenerateLanguages)};
  const double length = params.duration_s;
  if (!std::isfinite(length) || length < kMinGenerateSeconds || length > kMaxGenerateSeconds)
    return GenerateProblem{
        duration, fmt::format("expected a length from {} to {}, got {}", seconds_text(kMinGenerateSeconds),
                              seconds_text(kMaxGenerateSeconds),
                              std::isfinite(length) ? seconds_text(length) : std::string("a non-finite number"))};
  if (params.bpm && (*params.bpm < kMinGenerateBpm || *params.bpm > kMaxGenerateBpm))
    return GenerateProblem{
        bpm, fmt::format("expected a tempo from {} to {} bpm, got {}", kMinGenerateBpm, kMaxGenerateBpm, *params.bpm)};
  if (!params.key.empty() && !is_known_key(params.key))
    return GenerateProblem{key, fmt::format("'{}' is not a key the model knows; write a note A-G, an optional # or b, "
                                            "then major or minor, like \"F# minor\"",
                                            params.key)};
  if (params.time_signature && !contains(kGenerateTimeSignatures, *params.time_signature))
    return GenerateProblem{time_signature,
                           fmt::format("expected 2, 3, 4 or 6 beats per bar, got {}", *params.time_signature)};
  if (params.batch < 1 || params.batch > kMaxGenerateBatch)
    return GenerateProblem{batch, fmt::format("expected 1 to {} songs, got {}", kMaxGenerateBatch, params.batch)};
  if (params.shift < 1 || params.shift > kMaxGenerateShift)
    return GenerateProblem{shift, fmt::format("expected a schedule shift of 1, 2 or 3 (3 is the turbo default), got {}",
                                              params.shift)};
  if (!contains(kGenerateSamplers, params.sampler))
    return GenerateProblem{sampler, unknown_name_message("sampler", params.sampler, kGenerateSamplers)};
  if (params.bitrate_kbps && (*params.bitrate_kbps < kMinBitrateKbps || *params.bitrate_kbps > kMaxBitrateKbps))
    return GenerateProblem{bitrate, fmt::format("expected a bitrate from {} to {} kbps, got {}", kMinBitrateKbps,
                                                kMaxBitrateKbps, *params.bitrate_kbps)};
  if (params.bitrate_kbps && params.format != AudioFormat::mp3)
    return GenerateProblem{bitrate, fmt::format("{} applies only to mp3 output, but {} is {}; remove it or set {} to "
                                                "mp3",
                                                names.bitrate, names.format, to_string(params.format), names.format)};
  if (!params.name.empty() && (params.name.size() > kMaxGenerateNameBytes || !is_safe_name(params.name)))
    return GenerateProblem{name, fmt::format("'{}' is not a plain file name of at most {} bytes (letters, digits, '.', "
                                             "'_', '-'; no folders)",
                                             params.name, kMaxGenerateNameBytes)};
  if (params.infer_steps && *params.infer_steps < 1)
    return GenerateProblem{infer_steps, fmt::format("expected a positive step count, got {}", *params.infer_steps)};
  if (params.guidance_scale && !std::isfinite(*params.guidance_scale))
    return GenerateProblem{guidance_scale, "expected a finite number"};
  return std::nullopt;
}

}  // namespace ferry::config::rules
