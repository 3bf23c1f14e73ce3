#include "agent/engines/loop/onset.hpp"

#include <algorithm>
#include <cmath>

#include "agent/engines/loop/analysis_signal.hpp"

namespace ferry::agent::loop {

namespace {
// Log compression makes a quiet attack count nearly as much as a loud one,
// which is what a listener hears as "the beat".
constexpr float kCompression = 100.0f;
}  // namespace

OnsetEnvelope onset_envelope(std::span<const float> signal, double rate, std::size_t window,
                             std::size_t hop) {
  OnsetEnvelope envelope;
  envelope.hop = hop;
  envelope.window = window;
  envelope.frame_rate = rate / double(hop);
  envelope.values.assign(spectrum_frame_count(signal.size(), hop), 0.0f);
  std::vector<float> previous(window / 2 + 1, 0.0f);
  std::vector<float> current(previous.size());
  for_each_spectrum(signal, window, hop, [&](std::size_t frame, std::span<const float> magnitudes) {
    float flux = 0;
    for (std::size_t k = 0; k < magnitudes.size(); ++k) {
      current[k] = std::log1p(kCompression * magnitudes[k]);
      flux += std::max(0.0f, current[k] - previous[k]);
    }
    // The first frame has nothing before it: its "rise" from zero is not an onset.
    envelope.values[frame] = frame == 0 ? 0.0f : flux;
    std::swap(previous, current);
  });
  return envelope;
}

}  // namespace ferry::agent::loop
