#pragma once
// The search over pairs of beats: each beat gets a description (chroma and
// loudness of the beat that follows it), and a jump from beat j back to beat
// i scores by how alike the beats around i and around j are.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "agent/engines/loop/chroma.hpp"
#include "agent/engines/loop/loudness.hpp"

namespace ferry::agent::loop {

/// What each beat sounds like, over the stretch up to the next beat.
struct BeatFeatures {
  std::vector<Chroma> chroma;
  std::vector<double> loudness_db;
};

/// Features of each beat; `beats` and `period` are in analysis samples (the
/// last beat's stretch is one period, cut at the end of the signal).
BeatFeatures describe_beats(std::span<const std::int64_t> beats, double period, const ChromaFrames& chroma,
                            const EnergyIndex& energy);

/// How alike beats a and b sound, 0..1: chroma similarity, reduced when
/// their loudness differs by more than half a decibel.
double beat_similarity(const BeatFeatures& features, std::size_t a, std::size_t b);

/// A candidate loop from beat `start_beat` to beat `end_beat` (exclusive).
struct LoopCandidate {
  std::size_t start_beat = 0;
  std::size_t end_beat = 0;
  double similarity = 0;  ///< mean beat similarity around the two points, 0..1
};

/// The best pair of beats at least `min_loop_length` analysis samples apart
/// (and at least two beats), comparing `context_beats` beats on each side of
/// the two points. Among equally good pairs, longer loops and loops of whole
/// bars (multiples of four beats) win. Empty when no pair is far enough apart.
std::optional<LoopCandidate> find_best_loop(std::span<const std::int64_t> beats, const BeatFeatures& features,
                                            std::int64_t min_loop_length, std::int64_t track_length,
                                            std::size_t context_beats = 8);

}  // namespace ferry::agent::loop
