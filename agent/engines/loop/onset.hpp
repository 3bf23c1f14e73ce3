#pragma once
// Onset envelope: how much new sound starts in each short frame, measured as
// the rise of the log-compressed spectrum (spectral flux). Beats show up as
// regular peaks in it; its autocorrelation gives the tempo.

#include <span>
#include <vector>

namespace ferry::agent::loop {

/// The envelope and where its frames sit in time.
struct OnsetEnvelope {
  std::vector<float> values;  ///< one non-negative value per frame
  std::size_t hop = 0;        ///< analysis samples between frames
  std::size_t window = 0;     ///< analysis samples per frame (frame i is centred on i * hop)
  double frame_rate = 0;      ///< frames per second
};

/// Spectral flux of `signal` (mono, at `rate` samples per second) with frames
/// of `window` samples every `hop` samples.
OnsetEnvelope onset_envelope(std::span<const float> signal, double rate, std::size_t window = 512,
                             std::size_t hop = 128);

}  // namespace ferry::agent::loop
