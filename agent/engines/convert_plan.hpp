#pragma once
// Pure decisions of the convert engine: output names and where segments end.
// No I/O, so every rule is unit-tested on its own.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "config/job_spec.hpp"

namespace ferry::agent::convert {

/// A file-name stem from a user's file name: the last path component without
/// its extension, characters outside [A-Za-z0-9._-] replaced by '_', leading
/// dots dropped, at most 100 characters; "audio" when nothing is left.
std::string safe_stem(std::string_view name);

/// Stems for inputs in order, made distinct: later duplicates (compared
/// without case, since outputs may land on a case-insensitive disk) get
/// "_2", "_3", ...
std::vector<std::string> unique_stems(const std::vector<std::string>& names);

/// "<stem>.<ext>", or "<stem>_001.<ext>" for segment number 1.
std::string output_name(std::string_view stem, std::optional<std::size_t> segment_number, std::string_view extension);

/// Where each output segment ends, in frames at the output rate. Segment k
/// covers [round(t_k * rate), round(t_{k+1} * rate)) with t_0 = 0.
class SegmentPlan {
 public:
  /// Validates segment_s / cut_points_s (positive, finite, ascending, at
  /// least one sample apart, not both); errors name the field.
  static Result<SegmentPlan> from_params(const config::ConvertParams& params, int sample_rate);

  /// True when the input is cut at all (outputs are then numbered).
  bool cuts() const { return segment_frames_ > 0 || !cut_frames_.empty(); }
  /// First frame past segment `index` (0-based); nullopt when it runs to the end.
  std::optional<std::int64_t> segment_end(std::size_t index) const;

 private:
  double segment_s_ = 0;
  int sample_rate_ = 0;
  std::int64_t segment_frames_ = 0;  // > 0 when cutting every segment_s
  std::vector<std::int64_t> cut_frames_;
};

/// Channels of the output: 1 when `mono`, else the source's, capped at what
/// `format` stores (MP3 gets a stereo downmix of surround sources).
int output_channels(const config::ConvertParams& params, int source_channels);

}  // namespace ferry::agent::convert
