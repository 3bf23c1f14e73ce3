#include "agent/audio/sample_packing.hpp"

namespace ferry::audio {

void pack_s16(const float* source, std::size_t samples, std::int16_t* target) {
  for (std::size_t i = 0; i < samples; ++i) target[i] = float_to_s16(source[i]);
}

void deinterleave(const float* source, std::size_t frames, int channels, float* const* planes,
                  std::size_t target_offset) {
  if (channels == 2) {  // the common case, without the inner loop
    float* left = planes[0] + target_offset;
    float* right = planes[1] + target_offset;
    for (std::size_t i = 0; i < frames; ++i) {
      left[i] = source[2 * i];
      right[i] = source[2 * i + 1];
    }
    return;
  }
  for (int c = 0; c < channels; ++c) {
    float* plane = planes[c] + target_offset;
    for (std::size_t i = 0; i < frames; ++i) plane[i] = source[i * static_cast<std::size_t>(channels) + c];
  }
}

}  // namespace ferry::audio
