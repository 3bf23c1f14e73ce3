#pragma once
// Tempo from the onset envelope: the lag at which the envelope best matches
// itself (autocorrelation), weighted towards common tempi so that a steady
// pulse is read at its musical rate rather than at half or double.

#include <span>

namespace ferry::agent::loop {

struct TempoEstimate {
  double bpm = 0;         ///< beats per minute; 0 when no lag could be measured
  double period = 0;      ///< the beat period in envelope frames (fractional)
  double confidence = 0;  ///< normalised autocorrelation at that period, 0..1
};

/// Searches tempi in [min_bpm, max_bpm] over an envelope of `frame_rate`
/// frames per second. A steady beat gives a confidence near 1, noise near 0.
TempoEstimate estimate_tempo(std::span<const float> envelope, double frame_rate, double min_bpm = 40,
                             double max_bpm = 240);

}  // namespace ferry::agent::loop
