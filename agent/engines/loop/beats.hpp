#pragma once
// Beat positions: a dynamic-programming tracker picks the envelope peaks
// that best fit a steady period, then each beat moves to the attack it
// belongs to in the waveform itself, which the coarse envelope frames only
// locate to a few tens of milliseconds.

#include <cstdint>
#include <span>
#include <vector>

#include "agent/engines/loop/loudness.hpp"
#include "agent/engines/loop/onset.hpp"

namespace ferry::agent::loop {

/// Envelope frames of the beats, in time order. `period` is the beat period
/// in envelope frames. Leading and trailing beats on near-silence are dropped.
std::vector<std::size_t> track_beats(std::span<const float> envelope, double period);

/// Moves each beat (an envelope frame) to the analysis sample within half a
/// frame window where the short-term energy rises most; beats with no clear
/// attack nearby stay where the envelope put them. `energy` indexes the
/// analysis signal of `rate` samples per second. Returns analysis samples.
std::vector<std::int64_t> refine_beats_to_attacks(std::span<const std::size_t> beat_frames,
                                                  const OnsetEnvelope& envelope, const EnergyIndex& energy,
                                                  double rate);

/// The beat period in samples implied by the beat positions: the mean of the
/// intervals near their median, which ignores the odd skipped beat.
double beat_period_from_positions(std::span<const std::int64_t> beats);

}  // namespace ferry::agent::loop
