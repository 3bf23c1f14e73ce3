#include "agent/engines/loop/seam.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ferry::agent::loop {

namespace {

// Classifies frame `at` as a crossing (comparing with the frame before it).
Slope crossing_at(const MonoView& mono, std::int64_t at, bool& is_crossing) {
  const float now = mono[at];
  const float before = at > 0 ? mono[at - 1] : now;
  is_crossing = true;
  if (now == 0.0f) return before > 0 ? Slope::falling : before < 0 ? Slope::rising : Slope::flat;
  if (before < 0 && now > 0) return Slope::rising;
  if (before > 0 && now < 0) return Slope::falling;
  is_crossing = false;
  return Slope::flat;
}

struct Correlation {
  double value = 0;
  bool silent = true;
};

Correlation correlate(const MonoView& mono, std::int64_t a, std::int64_t b, std::int64_t length) {
  double cross = 0, energy_a = 0, energy_b = 0;
  for (std::int64_t i = 0; i < length; ++i) {
    const double x = mono[a + i], y = mono[b + i];
    cross += x * y;
    energy_a += x * x;
    energy_b += y * y;
  }
  constexpr double kSilence = 1e-18;
  if (energy_a <= kSilence * double(length) || energy_b <= kSilence * double(length)) return {};
  return {cross / std::sqrt(energy_a * energy_b), false};
}

}  // namespace

ZeroCrossing nearest_zero_crossing(const MonoView& mono, std::int64_t target, std::int64_t radius,
                                   Slope wanted) {
  const std::int64_t size = mono.size();
  if (size == 0) return {0, Slope::flat};
  target = std::clamp<std::int64_t>(target, 0, size - 1);
  std::int64_t quietest = target;
  for (std::int64_t distance = 0; distance <= radius; ++distance) {
    for (std::int64_t at : {target - distance, target + distance}) {
      if (at < 0 || at >= size) continue;
      if (std::abs(mono[at]) < std::abs(mono[quietest])) quietest = at;
      bool is_crossing = false;
      const Slope slope = crossing_at(mono, at, is_crossing);
      if (!is_crossing) continue;
      if (wanted != Slope::flat && slope != Slope::flat && slope != wanted) continue;
      // Of the two frames around a sign change, the one nearer zero.
      std::int64_t frame = at;
      if (at > 0 && std::abs(mono[at - 1]) < std::abs(mono[at])) frame = at - 1;
      return {frame, slope};
    }
  }
  return {quietest, Slope::flat};
}

std::int64_t best_end_shift(const MonoView& mono, std::int64_t loop_start, std::int64_t loop_end,
                            ComparisonWindow window, std::int64_t lowest_shift, std::int64_t highest_shift) {
  const std::int64_t size = mono.size();
  const std::int64_t start_from = loop_start + window.offset;
  if (window.length <= 0 || start_from < 0 || start_from + window.length > size) return 0;
  // Shifts that keep the end-side window inside the signal.
  const std::int64_t lowest = std::max(lowest_shift, -(loop_end + window.offset));
  const std::int64_t highest = std::min(highest_shift, size - (loop_end + window.offset + window.length));
  std::int64_t best = 0;
  double best_value = -std::numeric_limits<double>::infinity();
  for (std::int64_t shift = lowest; shift <= highest; ++shift) {
    const Correlation c = correlate(mono, start_from, loop_end + shift + window.offset, window.length);
    if (c.silent) continue;
    // Ties go to the smaller shift, keeping the end where the beat put it.
    if (c.value > best_value + 1e-9 ||
        (std::abs(c.value - best_value) <= 1e-9 && std::abs(shift) < std::abs(best))) {
      best_value = c.value;
      best = shift;
    }
  }
  return best_value == -std::numeric_limits<double>::infinity() ? 0 : best;
}

double seam_correlation(const MonoView& mono, std::int64_t loop_start, std::int64_t loop_end,
                        CrossfadeWindow window) {
  if (window.length() <= 0) return 1.0;
  const Correlation c = correlate(mono, loop_start - window.before, loop_end - window.before, window.length());
  if (c.silent) {
    // Silence against silence joins perfectly; silence against sound does not.
    const Correlation self_start = correlate(mono, loop_start - window.before, loop_start - window.before, window.length());
    const Correlation self_end = correlate(mono, loop_end - window.before, loop_end - window.before, window.length());
    return self_start.silent && self_end.silent ? 1.0 : 0.0;
  }
  return c.value;
}

}  // namespace ferry::agent::loop
