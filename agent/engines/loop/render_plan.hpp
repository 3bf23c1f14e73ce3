#pragma once
// The shape of a loop render: which input frames land where in an output of
// an exact length. The output is the input up to the loop end, then the loop
// again and again, cut at the requested length; each jump back is
// crossfaded, and the whole output may fade in and out.

#include <cstdint>
#include <optional>

#include "agent/engines/loop/crossfade.hpp"
#include "agent/engines/loop/loop_analysis.hpp"
#include "common/error.hpp"

namespace ferry::agent::loop {

/// Choices made at render time rather than by the analysis.
struct RenderOptions {
  std::int64_t fade_in_frames = 0;   ///< fade from silence at the start of the output
  std::int64_t fade_out_frames = 0;  ///< fade to silence at the end of the output
  /// Overrides the analysis' crossfade length (frames); it is fitted to the
  /// loop like the analysis' own (see fit_crossfade).
  std::optional<std::int64_t> crossfade_frames;
  /// Overrides the analysis' crossfade curve.
  std::optional<CrossfadeCurve> curve;
};

/// A render, fully determined: the renderer only follows it.
///
/// Output layout when `loops` (frames): intro [0, loop_start) of the input,
/// then `repetitions` whole passes of [loop_start, loop_end), then a tail of
/// `tail_frames` from loop_start on. Jump k (k = 0, 1, ...) from loop_end back
/// to loop_start happens at output frame loop_end + k * loop_frames(), with
/// the crossfade around it. When not `loops`, the output is the first
/// output_frames of the input, untouched but for the fades.
struct RenderPlan {
  std::int64_t input_frames = 0;
  std::int64_t output_frames = 0;
  bool loops = false;
  std::int64_t loop_start = 0;
  std::int64_t loop_end = 0;
  CrossfadeWindow crossfade;
  CrossfadeCurve curve = CrossfadeCurve::equal_power;
  std::int64_t fade_in_frames = 0;
  std::int64_t fade_out_frames = 0;

  std::int64_t intro_frames = 0;  ///< == loop_start when loops, else output_frames
  std::int64_t repetitions = 0;   ///< whole passes of the loop
  std::int64_t tail_frames = 0;   ///< a last, partial pass

  std::int64_t loop_frames() const { return loop_end - loop_start; }
  /// Number of crossfaded jumps that start inside the output.
  std::int64_t seam_count() const;
  /// Output frame of jump k (where the loop_end side gives way to loop_start).
  std::int64_t seam_position(std::int64_t k) const { return loop_end + k * loop_frames(); }
};

/// Plans an output of exactly `output_frames` frames from an input of
/// `input_frames` frames and its analysis. Fails with a message naming the
/// field when the request cannot be met (zero or negative length, fades
/// longer than the output, an analysis of another input).
Result<RenderPlan> plan_render(const LoopAnalysis& analysis, std::int64_t input_frames, std::int64_t output_frames,
                               const RenderOptions& options = {});

}  // namespace ferry::agent::loop
