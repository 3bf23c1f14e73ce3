#pragma once
// What makes a `generate` job valid, shared by the manifest reader and the
// agent's wire reader. The limits and vocabularies are ACE-Step 1.5's own
// (its constants: 10 s to 10 min, 30 to 300 bpm, time signatures 2/3/4/6,
// 50 vocal languages and "unknown", keys like "F# minor"), so a request
// ferry accepts is one the model was trained to follow.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "config/job_spec.hpp"

namespace ferry::config::rules {

/// The spellings one reader uses for the GenerateParams fields.
struct GenerateFieldNames {
  std::string_view caption;
  std::string_view lyrics;
  std::string_view instrumental;
  std::string_view language;
  std::string_view duration;
  std::string_view bpm;
  std::string_view key;
  std::string_view time_signature;
  std::string_view batch;
  std::string_view shift;
  std::string_view sampler;
  std::string_view format;
  std::string_view bitrate;
  std::string_view name;
  std::string_view infer_steps;
  std::string_view guidance_scale;
};

enum class GenerateField {
  caption,
  lyrics,
  language,
  duration,
  bpm,
  key,
  time_signature,
  batch,
  shift,
  sampler,
  bitrate,
  name,
  infer_steps,
  guidance_scale
};

/// The reader's spelling of `field`.
std::string_view field_name(GenerateField field, const GenerateFieldNames& names);

/// One broken rule of a generate job: which field and why, without a path.
struct GenerateProblem {
  GenerateField field;
  std::string message;
};

/// The first rule `params` breaks, or none.
std::optional<GenerateProblem> find_generate_problem(const GenerateParams& params, const GenerateFieldNames& names);

/// True for "C major", "F# minor", "Bb major", "B♭ minor" and the other keys
/// ACE-Step knows (7 notes × natural, #, b, ♯, ♭ × major, minor).
bool is_known_key(std::string_view key);

/// Vocal languages ACE-Step 1.5 was trained on, and "unknown".
inline constexpr std::array<std::string_view, 51> kGenerateLanguages{
    "ar", "az", "bg", "bn", "ca", "cs", "da", "de", "el", "en", "es", "fa", "fi", "fr", "he", "hi", "hr",
    "ht", "hu", "id", "is", "it", "ja", "ko", "la", "lt", "ms", "ne", "nl", "no", "pa", "pl", "pt", "ro",
    "ru", "sa", "sk", "sr", "sv", "sw", "ta", "te", "th", "tl", "tr", "uk", "ur", "vi", "yue", "zh", "unknown"};
inline constexpr std::array<int, 4> kGenerateTimeSignatures{2, 3, 4, 6};
inline constexpr std::array<std::string_view, 2> kGenerateSamplers{"ode", "sde"};

inline constexpr double kMinGenerateSeconds = 10.0;
inline constexpr double kMaxGenerateSeconds = 600.0;
inline constexpr int kMinGenerateBpm = 30;
inline constexpr int kMaxGenerateBpm = 300;
inline constexpr int kMaxGenerateBatch = 8;
inline constexpr int kMaxGenerateShift = 3;
/// Text lengths in Unicode code points. The caption's tokens are cut at 256
/// and the lyrics' at 2048 by the model anyway; past these lengths most of
/// the text would be silently dropped, so it is refused instead.
inline constexpr std::size_t kMaxCaptionCodePoints = 1024;
inline constexpr std::size_t kMaxLyricsCodePoints = 4096;
/// The output file stem, when given.
inline constexpr std::size_t kMaxGenerateNameBytes = 100;

}  // namespace ferry::config::rules
