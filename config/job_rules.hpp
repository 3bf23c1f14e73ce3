#pragma once
// Rules shared by the two ways a job reaches ferry, the manifest (YAML) and
// the agent's wire format (JSON): which job kinds exist and what makes
// ConvertParams valid. The readers only map field names and locations.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "config/job_spec.hpp"

namespace ferry::config::rules {

/// Job kinds this build runs.
inline constexpr std::array<std::string_view, 1> kAvailableJobKinds{"convert"};
/// Job kinds that are designed but not in this build yet.
inline constexpr std::array<std::string_view, 3> kPlannedJobKinds{"separate", "loop", "generate"};

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

/// Limits, named once for readers and messages.
inline constexpr int kMinSampleRate = 8000;
inline constexpr int kMaxSampleRate = 192000;
inline constexpr int kMinBitrateKbps = 32;
inline constexpr int kMaxBitrateKbps = 320;
inline constexpr double kMinSegmentSeconds = 0.1;
inline constexpr std::size_t kMaxCutPoints = 10000;

}  // namespace ferry::config::rules
