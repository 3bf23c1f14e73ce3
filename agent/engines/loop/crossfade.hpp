#pragma once
// Gain curves shared by the seam crossfades and the fades of the whole output.

#include <cstdint>
#include <string_view>

namespace ferry::agent::loop {

/// How two stretches are blended at a seam. Linear gains (sum 1) keep the
/// level of near-identical material; equal-power gains (sum of squares 1)
/// keep the level of unrelated material, which would dip 3 dB under linear.
enum class CrossfadeCurve { linear, equal_power };

/// "linear" or "equal_power", for job results and logs.
std::string_view to_string(CrossfadeCurve curve);

/// Gains of the outgoing and incoming material.
struct CrossfadeGains {
  float outgoing = 1;
  float incoming = 0;
};

/// Gains at `position` (0..1) through a crossfade: all outgoing at 0, all
/// incoming at 1.
CrossfadeGains crossfade_gains(CrossfadeCurve curve, double position);

/// Gain of a fade from silence: 0 at 0, 1 at 1, with a gentle start and end
/// (half a cosine) so the fade itself adds no click. Fades to silence use
/// it backwards.
float fade_gain(double position);

/// Where a seam's crossfade lies: `before` frames ahead of the loop point and
/// `after` frames past it (in both the outgoing and the incoming material).
struct CrossfadeWindow {
  std::int64_t before = 0;
  std::int64_t after = 0;
  std::int64_t length() const { return before + after; }
};

/// Centres a crossfade of up to `length` frames on the jump from `loop_end`
/// back to `loop_start`, shrinking or shifting it to what the input allows:
/// material must exist before loop_start and after loop_end, and two
/// consecutive crossfades may not overlap (length <= loop_end - loop_start).
CrossfadeWindow fit_crossfade(std::int64_t length, std::int64_t loop_start, std::int64_t loop_end,
                              std::int64_t input_frames);

}  // namespace ferry::agent::loop
