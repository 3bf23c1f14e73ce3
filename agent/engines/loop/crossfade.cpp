#include "agent/engines/loop/crossfade.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace ferry::agent::loop {

std::string_view to_string(CrossfadeCurve curve) {
  switch (curve) {
    case CrossfadeCurve::linear: return "linear";
    case CrossfadeCurve::equal_power: return "equal_power";
  }
  return "linear";
}

CrossfadeGains crossfade_gains(CrossfadeCurve curve, double position) {
  const double t = std::clamp(position, 0.0, 1.0);
  if (curve == CrossfadeCurve::linear) return {float(1.0 - t), float(t)};
  const double angle = 0.5 * std::numbers::pi * t;
  return {float(std::cos(angle)), float(std::sin(angle))};
}

float fade_gain(double position) {
  const double t = std::clamp(position, 0.0, 1.0);
  return float(0.5 - 0.5 * std::cos(std::numbers::pi * t));
}

CrossfadeWindow fit_crossfade(std::int64_t length, std::int64_t loop_start, std::int64_t loop_end,
                              std::int64_t input_frames) {
  const std::int64_t room_before = std::max<std::int64_t>(0, loop_start);
  const std::int64_t room_after = std::max<std::int64_t>(0, input_frames - loop_end);
  length = std::clamp<std::int64_t>(length, 0, std::max<std::int64_t>(0, loop_end - loop_start));
  CrossfadeWindow window;
  window.before = std::min(length / 2, room_before);
  window.after = std::min(length - window.before, room_after);
  // Whatever did not fit after the loop point goes before it, if there is room.
  window.before = std::min(length - window.after, room_before);
  return window;
}

}  // namespace ferry::agent::loop
