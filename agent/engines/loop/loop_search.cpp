#include "agent/engines/loop/loop_search.hpp"

#include <algorithm>
#include <cmath>

namespace ferry::agent::loop {

namespace {
// Loudness differences up to this are inaudible at a seam...
constexpr double kLoudnessToleranceDb = 0.5;
// ...and similarity falls to zero this many decibels beyond it.
constexpr double kLoudnessRangeDb = 6.0;
// Tie-breakers between pairs that sound equally alike: a loop of whole bars
// keeps the phrase structure, and a longer loop repeats less often.
constexpr double kWholeBarsBonus = 0.02;
constexpr double kLengthBonus = 0.03;
constexpr std::size_t kBeatsPerBar = 4;
}  // namespace

BeatFeatures describe_beats(std::span<const std::int64_t> beats, double period, const ChromaFrames& chroma,
                            const EnergyIndex& energy) {
  BeatFeatures features;
  features.chroma.reserve(beats.size());
  features.loudness_db.reserve(beats.size());
  for (std::size_t i = 0; i < beats.size(); ++i) {
    const std::int64_t from = beats[i];
    const std::int64_t to = i + 1 < beats.size() ? beats[i + 1] : from + std::int64_t(std::lround(period));
    features.chroma.push_back(chroma_between(chroma, from, to));
    features.loudness_db.push_back(energy.loudness_db(from, to));
  }
  return features;
}

double beat_similarity(const BeatFeatures& features, std::size_t a, std::size_t b) {
  const double harmony = chroma_similarity(features.chroma[a], features.chroma[b]);
  const double excess = std::abs(features.loudness_db[a] - features.loudness_db[b]) - kLoudnessToleranceDb;
  const double level = excess <= 0 ? 1.0 : std::max(0.0, 1.0 - excess / kLoudnessRangeDb);
  return harmony * level;
}

std::optional<LoopCandidate> find_best_loop(std::span<const std::int64_t> beats, const BeatFeatures& features,
                                            std::int64_t min_loop_length, std::int64_t track_length,
                                            std::size_t context_beats) {
  const std::size_t count = beats.size();
  std::optional<LoopCandidate> best;
  double best_rank = -1;
  const auto context = std::ptrdiff_t(context_beats);
  // Walk one diagonal of the beat-similarity matrix per loop length in
  // beats; prefix sums along it give each pair's mean over its context in
  // O(1), so memory stays linear in the number of beats.
  std::vector<double> prefix;
  for (std::size_t distance = 2; distance < count; ++distance) {
    const std::size_t pairs = count - distance;
    prefix.assign(pairs + 1, 0.0);
    for (std::size_t i = 0; i < pairs; ++i) prefix[i + 1] = prefix[i] + beat_similarity(features, i, i + distance);
    for (std::size_t i = 0; i < pairs; ++i) {
      const std::int64_t length = beats[i + distance] - beats[i];
      if (length < min_loop_length) continue;
      const auto from = std::size_t(std::max<std::ptrdiff_t>(0, std::ptrdiff_t(i) - context));
      const std::size_t to = std::min(pairs, i + context_beats);
      const double similarity = (prefix[to] - prefix[from]) / double(to - from);
      const double rank = similarity + (distance % kBeatsPerBar == 0 ? kWholeBarsBonus : 0.0) +
                          kLengthBonus * double(length) / double(std::max<std::int64_t>(1, track_length));
      if (rank > best_rank) {
        best_rank = rank;
        best = LoopCandidate{i, i + distance, similarity};
      }
    }
  }
  return best;
}

}  // namespace ferry::agent::loop
