#pragma once
// Conversions from interleaved float to the layouts encoders take. Plain
// loops over arrays, kept apart from FFmpeg so they can be tested alone.

#include <cstddef>
#include <cstdint>

namespace ferry::audio {

/// Float in [-1, 1] to 16-bit PCM: scaled by 32768, rounded to nearest,
/// clipped to [-32768, 32767]; NaN becomes 0. Exact inverse of x / 32768.
inline std::int16_t float_to_s16(float sample) {
  float scaled = sample * 32768.0f;
  if (!(scaled == scaled)) return 0;
  if (scaled <= -32768.0f) return -32768;
  if (scaled >= 32767.0f) return 32767;
  // Round half away from zero without a library call; the loop vectorises.
  return static_cast<std::int16_t>(scaled + (scaled >= 0.0f ? 0.5f : -0.5f));
}

/// `samples` floats to 16-bit PCM, same order.
void pack_s16(const float* source, std::size_t samples, std::int16_t* target);

/// Interleaved frames to one array per channel, starting at `target_offset`
/// frames into each plane.
void deinterleave(const float* source, std::size_t frames, int channels, float* const* planes,
                  std::size_t target_offset);

}  // namespace ferry::audio
