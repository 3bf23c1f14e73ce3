#pragma once
// Rules shared by the two ways a job reaches ferry, the manifest (YAML) and
// the agent's wire format (JSON): which job kinds exist and what makes
// ConvertParams and LoopParams valid. The readers only map field names and
// locations.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "config/job_spec.hpp"

namespace ferry::config::rules {

/// Job kinds this build runs.
inline constexpr std::array<std::string_view, 4> kAvailableJobKinds{"convert", "loop", "separate", "generate"};
/// Job kinds that are designed but not in this build yet.
inline constexpr std::array<std::string_view, 0> kPlannedJobKinds{};

/// Why `kind` cannot be run (no field path in the message): unknown kinds are
/// invalid_argument with a suggestion, planned ones unsupported. None when it can.
std::optional<Error> job_kind_problem(std::string_view kind);

/// True for an http:// or https:// URL with a host and no spaces or control
/// characters: the only URLs the agent fetches.
bool is_http_url(std::string_view text);

/// The spellings one reader uses for the ConvertParams fields, so shared
/// messages name what the user actually wrote.
struct ConvertFieldNames {
  std::string_view format;
  std::string_view sample_rate;
  std::string_view bitrate;
  std::string_view segment;
  std::string_view cut_points;
};

enum class ConvertField { format, sample_rate, bitrate, segment, cut_points };

/// The reader's spelling of `field`.
std::string_view field_name(ConvertField field, const ConvertFieldNames& names);

/// One broken rule: which field (and list element) and why, without a path.
struct ConvertProblem {
  ConvertField field;
  std::optional<std::size_t> index;
  std::string message;
};

/// The first rule `params` breaks, or none.
std::optional<ConvertProblem> find_convert_problem(const ConvertParams& params, const ConvertFieldNames& names);

/// The spellings one reader uses for the LoopParams fields.
struct LoopFieldNames {
  std::string_view duration;
  std::string_view format;
  std::string_view crossfade;
  std::string_view fade_in;
  std::string_view fade_out;
  std::string_view sample_rate;
  std::string_view bitrate;
};

enum class LoopField { duration, format, crossfade, fade_in, fade_out, sample_rate, bitrate };

/// The reader's spelling of `field`.
std::string_view field_name(LoopField field, const LoopFieldNames& names);

/// One broken rule of a loop job: which field and why, without a path.
struct LoopProblem {
  LoopField field;
  std::string message;
};

/// The first rule `params` breaks, or none: the duration lies in
/// [kMinLoopSeconds, kMaxLoopSeconds], the crossfade in [kMinLoopCrossfadeSeconds,
/// kMaxLoopCrossfadeSeconds], fades are not negative and fit in the duration
/// together, and sample rate and bitrate follow the convert rules.
std::optional<LoopProblem> find_loop_problem(const LoopParams& params, const LoopFieldNames& names);

/// The spellings one reader uses for the SeparateParams fields.
struct SeparateFieldNames {
  std::string_view model;
  std::string_view checkpoint;
  std::string_view bag;
  std::string_view stems;
  std::string_view format;
  std::string_view bitrate;
  std::string_view shifts;
  std::string_view overlap;
  std::string_view batch;
};

enum class SeparateField { model, checkpoint, bag, stems, bitrate, shifts, overlap, batch };

/// The reader's spelling of `field`.
std::string_view field_name(SeparateField field, const SeparateFieldNames& names);

/// One broken rule of a separate job: which field (and list element) and why.
struct SeparateProblem {
  SeparateField field;
  std::optional<std::size_t> index;
  std::string message;
};

/// The first rule `params` breaks, or none: at most one of model, checkpoint
/// and bag; names that are plain file names; distinct stems; shifts in
/// [0, kMaxSeparationShifts]; overlap in [0, kMaxSeparationOverlap]; batch in
/// [1, kMaxSeparationBatch]; a valid MP3 bitrate.
std::optional<SeparateProblem> find_separate_problem(const SeparateParams& params, const SeparateFieldNames& names);

/// Limits, named once for readers and messages.
inline constexpr int kMinSampleRate = 8000;
inline constexpr int kMaxSampleRate = 192000;
inline constexpr int kMinBitrateKbps = 32;
inline constexpr int kMaxBitrateKbps = 320;
inline constexpr double kMinSegmentSeconds = 0.1;
inline constexpr std::size_t kMaxCutPoints = 10000;
inline constexpr double kMinLoopSeconds = 1.0;
inline constexpr double kMaxLoopSeconds = 10.0 * 3600.0;
inline constexpr double kMinLoopCrossfadeSeconds = 0.01;
inline constexpr double kMaxLoopCrossfadeSeconds = 30.0;
inline constexpr int kMaxSeparationShifts = 20;
inline constexpr double kMaxSeparationOverlap = 0.99;
inline constexpr int kMaxSeparationBatch = 64;
inline constexpr std::size_t kMaxSeparationStems = 16;

}  // namespace ferry::config::rules
