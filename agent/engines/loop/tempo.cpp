#include "agent/engines/loop/tempo.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace ferry::agent::loop {

namespace {
// Listeners tap most songs near 120 BPM; a prior one octave wide around it
// settles the half/double-tempo ambiguity the autocorrelation cannot.
constexpr double kPreferredBpm = 120.0;
constexpr double kPriorOctaves = 1.0;

double tempo_prior(double bpm) {
  const double octaves = std::log2(bpm / kPreferredBpm) / kPriorOctaves;
  return std::exp(-0.5 * octaves * octaves);
}
}  // namespace

TempoEstimate estimate_tempo(std::span<const float> envelope, double frame_rate, double min_bpm,
                             double max_bpm) {
  TempoEstimate estimate;
  const std::size_t n = envelope.size();
  const auto min_lag = std::size_t(std::floor(60.0 * frame_rate / max_bpm));
  const auto max_lag = std::size_t(std::ceil(60.0 * frame_rate / min_bpm));
  // At least two periods of the slowest tempo are needed to see repetition.
  if (min_lag < 1 || n < 2 * max_lag + 2) return estimate;

  double mean = 0;
  for (float v : envelope) mean += v;
  mean /= double(n);
  std::vector<double> centred(n);
  double energy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    centred[i] = envelope[i] - mean;
    energy += centred[i] * centred[i];
  }
  if (energy <= 1e-12 * double(n)) return estimate;

  // Normalised per lag by the overlap length, so long lags are not penalised
  // merely for overlapping less.
  std::vector<double> correlation(max_lag + 2, 0.0);
  for (std::size_t lag = min_lag - 1; lag <= max_lag + 1; ++lag) {
    double sum = 0;
    for (std::size_t i = 0; i + lag < n; ++i) sum += centred[i] * centred[i + lag];
    correlation[lag] = (sum / double(n - lag)) / (energy / double(n));
  }
  std::size_t best = min_lag;
  double best_weighted = -1e300;
  for (std::size_t lag = min_lag; lag <= max_lag; ++lag) {
    const double weighted = correlation[lag] * tempo_prior(60.0 * frame_rate / double(lag));
    if (weighted > best_weighted) {
      best_weighted = weighted;
      best = lag;
    }
  }
  // A parabola through the peak and its neighbours gives a fractional lag.
  const double left = correlation[best - 1], centre = correlation[best], right = correlation[best + 1];
  const double curvature = left - 2 * centre + right;
  double offset = curvature < 0 ? 0.5 * (left - right) / curvature : 0.0;
  offset = std::clamp(offset, -0.5, 0.5);
  estimate.period = double(best) + offset;
  estimate.bpm = 60.0 * frame_rate / estimate.period;
  estimate.confidence = std::clamp(centre, 0.0, 1.0);
  return estimate;
}

}  // namespace ferry::agent::loop
