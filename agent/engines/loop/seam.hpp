#pragma once
// Sample-level placement of a seam on the mono mix at the input rate:
// aligning the end of the loop with its start by cross-correlation, snapping
// both to zero crossings, and measuring how alike the two sides are.

#include <cstdint>

#include "agent/engines/loop/analysis_signal.hpp"
#include "agent/engines/loop/crossfade.hpp"

namespace ferry::agent::loop {

/// Direction of the signal through a zero crossing.
enum class Slope { flat, rising, falling };

struct ZeroCrossing {
  std::int64_t frame = 0;
  Slope slope = Slope::flat;
};

/// The zero crossing nearest `target` within `radius` frames: a frame whose
/// value is exactly zero, or the smaller-magnitude side of a sign change.
/// With `wanted` rising or falling, only crossings of that slope (or flat
/// zeros) count. With none in reach, the frame of smallest magnitude is used.
ZeroCrossing nearest_zero_crossing(const MonoView& mono, std::int64_t target, std::int64_t radius,
                                   Slope wanted = Slope::flat);

/// The frames compared around each loop point: [point + offset, point + offset + length).
struct ComparisonWindow {
  std::int64_t offset = 0;
  std::int64_t length = 0;
};

/// The shift in [lowest_shift, highest_shift] of `loop_end` that makes the
/// material around it best match the material around `loop_start`, by
/// normalised cross-correlation over `window`. Shifts that would read outside
/// the signal are skipped; 0 when nothing can be compared (or all is silent).
std::int64_t best_end_shift(const MonoView& mono, std::int64_t loop_start, std::int64_t loop_end,
                            ComparisonWindow window, std::int64_t lowest_shift, std::int64_t highest_shift);

/// Normalised correlation (-1..1) of the crossfade windows around the two
/// loop points; 1 for identical material, about 0 for unrelated material.
/// Two silent windows count as identical.
double seam_correlation(const MonoView& mono, std::int64_t loop_start, std::int64_t loop_end,
                        CrossfadeWindow window);

}  // namespace ferry::agent::loop
