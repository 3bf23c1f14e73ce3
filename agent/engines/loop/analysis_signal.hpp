#pragma once
// The signals the loop analysis works on: a mono mix at the input rate (for
// sample-exact decisions such as zero crossings) and a mono mix reduced to
// roughly 11 kHz (for features, where a lower rate makes the analysis of a
// long track cheap without losing the beat or the harmony).

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace ferry::agent::loop {

/// The mean of the channels of an interleaved buffer, computed on access:
/// sample-exact work only looks at a few thousand frames around the loop
/// points, so a full-rate mono copy of the track would be wasted memory.
class MonoView {
 public:
  MonoView(const float* interleaved, std::int64_t frames, int channels)
      : data_(interleaved), frames_(frames), channels_(channels) {}
  std::int64_t size() const { return frames_; }
  float operator[](std::int64_t frame) const {
    const float* at = data_ + frame * channels_;
    float sum = 0;
    for (int c = 0; c < channels_; ++c) sum += at[c];
    return sum / float(channels_);
  }

 private:
  const float* data_;
  std::int64_t frames_;
  int channels_;
};

/// A mono signal at a reduced rate: sample i covers input frames
/// [i * decimation, (i + 1) * decimation).
struct AnalysisSignal {
  std::vector<float> samples;
  int decimation = 1;  ///< input frames per analysis sample
  double rate = 0;     ///< analysis samples per second
};

/// Mixes to mono and averages blocks of `decimation` frames; the factor is
/// chosen so the rate lands near `target_rate` (never above the input rate).
AnalysisSignal reduce_rate(const MonoView& mono, int sample_rate, double target_rate = 11025.0);

/// Calls `visit(frame_index, magnitudes)` for each Hann-windowed frame of
/// `signal`: frame i is centred on sample i * hop (zero-padded at the ends),
/// magnitudes has window / 2 + 1 values scaled so a full-scale sine peaks
/// near 1. `window` must be a power of two.
void for_each_spectrum(std::span<const float> signal, std::size_t window, std::size_t hop,
                       const std::function<void(std::size_t, std::span<const float>)>& visit);

/// Number of frames for_each_spectrum visits.
std::size_t spectrum_frame_count(std::size_t signal_length, std::size_t hop);

}  // namespace ferry::agent::loop
