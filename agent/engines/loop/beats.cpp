#include "agent/engines/loop/beats.hpp"

#include <algorithm>
#include <cmath>


namespace ferry::agent::loop {

namespace {
// How strongly the tracker insists on the period (as in Ellis 2007's tracker):
// higher values allow less tempo drift between consecutive beats.
constexpr double kTightness = 100.0;
// A beat whose onset is below this fraction of the median beat onset is
// taken as padding (silence before the music starts or after it ends).
constexpr double kWeakBeatFraction = 0.1;
// The window over which attacks are measured, in seconds.
constexpr double kAttackWindowSeconds = 0.005;

double standard_deviation(std::span<const float> values) {
  double mean = 0, square = 0;
  for (float v : values) mean += v;
  mean /= double(values.size());
  for (float v : values) square += (v - mean) * (v - mean);
  return std::sqrt(square / double(values.size()));
}

// Largest envelope value within a couple of frames of `frame`.
float local_peak(std::span<const float> envelope, std::size_t frame) {
  const std::size_t first = frame >= 2 ? frame - 2 : 0;
  const std::size_t last = std::min(envelope.size(), frame + 3);
  return *std::max_element(envelope.begin() + std::ptrdiff_t(first), envelope.begin() + std::ptrdiff_t(last));
}
}  // namespace

std::vector<std::size_t> track_beats(std::span<const float> envelope, double period) {
  const std::size_t n = envelope.size();
  if (n == 0 || period < 2) return {};
  const double spread = standard_deviation(envelope);
  if (spread <= 0) return {};

  const auto shortest = std::max<std::size_t>(1, std::size_t(std::lround(period / 2)));
  const auto longest = std::size_t(std::lround(period * 2));
  // Penalty for each possible gap, so the inner loop only adds.
  std::vector<double> gap_penalty(longest + 1, 0.0);
  for (std::size_t gap = shortest; gap <= longest; ++gap) {
    const double stretch = std::log(double(gap) / period);
    gap_penalty[gap] = kTightness * stretch * stretch;
  }

  std::vector<double> score(n);
  std::vector<std::ptrdiff_t> previous(n, -1);
  for (std::size_t t = 0; t < n; ++t) {
    const double onset = envelope[t] / spread;
    double best = 0;  // starting a fresh chain of beats here
    std::ptrdiff_t best_from = -1;
    for (std::size_t gap = shortest; gap <= longest && gap <= t; ++gap) {
      const double candidate = score[t - gap] - gap_penalty[gap];
      if (candidate > best) {
        best = candidate;
        best_from = std::ptrdiff_t(t - gap);
      }
    }
    score[t] = onset + best;
    previous[t] = best_from;
  }

  // The chain ends at the best score within the last period.
  const std::size_t tail = std::min(n, std::size_t(std::ceil(period)));
  std::size_t last = n - tail;
  for (std::size_t t = n - tail; t < n; ++t) {
    if (score[t] > score[last]) last = t;
  }
  std::vector<std::size_t> beats;
  for (std::ptrdiff_t t = std::ptrdiff_t(last); t >= 0; t = previous[std::size_t(t)]) {
    beats.push_back(std::size_t(t));
  }
  std::reverse(beats.begin(), beats.end());
  if (beats.empty()) return beats;

  std::vector<float> strengths;
  for (std::size_t beat : beats) strengths.push_back(local_peak(envelope, beat));
  std::vector<float> sorted = strengths;
  std::nth_element(sorted.begin(), sorted.begin() + std::ptrdiff_t(sorted.size() / 2), sorted.end());
  const float weak = float(kWeakBeatFraction) * sorted[sorted.size() / 2];
  std::size_t first = 0, end = beats.size();
  while (first < end && strengths[first] <= weak) ++first;
  while (end > first && strengths[end - 1] <= weak) --end;
  return {beats.begin() + std::ptrdiff_t(first), beats.begin() + std::ptrdiff_t(end)};
}

std::vector<std::int64_t> refine_beats_to_attacks(std::span<const std::size_t> beat_frames,
                                                  const OnsetEnvelope& envelope, const EnergyIndex& index,
                                                  double rate) {
  const std::size_t n = index.size();
  const auto width = std::max<std::size_t>(2, std::size_t(std::lround(kAttackWindowSeconds * rate)));
  // A floor relative to the mean energy keeps tiny rises out of near-silence
  // from looking like attacks.
  const double floor = 1e-3 * (n ? index.energy(0, n) / double(n) : 0.0) * double(width) + 1e-12;
  auto energy = [&](std::size_t from, std::size_t to) { return index.energy(from, to); };
  // A clear attack at least doubles the energy from one window to the next.
  const double clear_rise = std::log(2.0);

  std::vector<std::int64_t> beats;
  beats.reserve(beat_frames.size());
  const std::ptrdiff_t reach = std::ptrdiff_t(envelope.window / 2);
  for (std::size_t frame : beat_frames) {
    const std::ptrdiff_t centre = std::ptrdiff_t(frame * envelope.hop);
    const std::ptrdiff_t from = std::max<std::ptrdiff_t>(std::ptrdiff_t(width), centre - reach);
    const std::ptrdiff_t to = std::min<std::ptrdiff_t>(std::ptrdiff_t(n) - std::ptrdiff_t(width), centre + reach);
    std::int64_t chosen = std::clamp<std::int64_t>(centre, 0, n ? std::int64_t(n - 1) : 0);
    double best_rise = clear_rise;
    for (std::ptrdiff_t at = from; at <= to; ++at) {
      const auto i = std::size_t(at);
      const double rise = std::log(floor + energy(i, i + width)) - std::log(floor + energy(i - width, i));
      if (rise > best_rise) {
        best_rise = rise;
        chosen = at;
      }
    }
    beats.push_back(chosen);
  }
  // Refinement can move two beats onto the same attack; keep them ordered and distinct.
  std::sort(beats.begin(), beats.end());
  beats.erase(std::unique(beats.begin(), beats.end()), beats.end());
  return beats;
}

double beat_period_from_positions(std::span<const std::int64_t> beats) {
  if (beats.size() < 2) return 0;
  std::vector<double> intervals;
  for (std::size_t i = 1; i < beats.size(); ++i) intervals.push_back(double(beats[i] - beats[i - 1]));
  std::vector<double> sorted = intervals;
  std::nth_element(sorted.begin(), sorted.begin() + std::ptrdiff_t(sorted.size() / 2), sorted.end());
  const double median = sorted[sorted.size() / 2];
  double sum = 0;
  int count = 0;
  for (double interval : intervals) {
    if (std::abs(interval - median) <= 0.1 * median) {
      sum += interval;
      ++count;
    }
  }
  return count ? sum / count : median;
}

}  // namespace ferry::agent::loop
