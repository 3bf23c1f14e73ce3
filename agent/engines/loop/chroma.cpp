#include "agent/engines/loop/chroma.hpp"

#include <algorithm>
#include <cmath>

#include "agent/engines/loop/analysis_signal.hpp"

namespace ferry::agent::loop {

namespace {
// Below ~55 Hz the bins are too wide for pitch; above ~2 kHz harmonics and
// noise blur the pitch classes more than they inform them.
constexpr double kLowestHz = 55.0;
constexpr double kHighestHz = 2000.0;

// Pitch class of each spectrum bin (-1 outside the useful range).
std::vector<int> pitch_class_of_bins(std::size_t bins, std::size_t window, double rate) {
  std::vector<int> classes(bins, -1);
  for (std::size_t k = 1; k < bins; ++k) {
    const double hz = double(k) * rate / double(window);
    if (hz < kLowestHz || hz > kHighestHz) continue;
    // MIDI note 69 is A4 = 440 Hz; pitch class 0 is C.
    const long midi = std::lround(69.0 + 12.0 * std::log2(hz / 440.0));
    classes[k] = int(((midi % 12) + 12) % 12);
  }
  return classes;
}

Chroma normalised(Chroma chroma) {
  double square = 0;
  for (float v : chroma) square += double(v) * v;
  if (square <= 1e-20) return Chroma{};
  const float scale = float(1.0 / std::sqrt(square));
  for (float& v : chroma) v *= scale;
  return chroma;
}
}  // namespace

ChromaFrames chroma_frames(std::span<const float> signal, double rate, std::size_t window, std::size_t hop) {
  ChromaFrames chroma;
  chroma.hop = hop;
  chroma.frames.resize(spectrum_frame_count(signal.size(), hop));
  const std::vector<int> classes = pitch_class_of_bins(window / 2 + 1, window, rate);
  for_each_spectrum(signal, window, hop, [&](std::size_t frame, std::span<const float> magnitudes) {
    Chroma& out = chroma.frames[frame];
    out.fill(0.0f);
    for (std::size_t k = 0; k < magnitudes.size(); ++k) {
      if (classes[k] >= 0) out[std::size_t(classes[k])] += magnitudes[k] * magnitudes[k];
    }
  });
  return chroma;
}

Chroma chroma_between(const ChromaFrames& chroma, std::int64_t from, std::int64_t to) {
  Chroma sum{};
  if (chroma.frames.empty() || to <= from) return sum;
  const auto hop = std::int64_t(chroma.hop);
  const std::int64_t last_frame = std::int64_t(chroma.frames.size()) - 1;
  const std::int64_t first = std::clamp<std::int64_t>((from + hop - 1) / hop, 0, last_frame);
  const std::int64_t end = std::clamp<std::int64_t>((to + hop - 1) / hop, first + 1, last_frame + 1);
  for (std::int64_t f = first; f < end; ++f) {
    for (std::size_t c = 0; c < 12; ++c) sum[c] += chroma.frames[std::size_t(f)][c];
  }
  return normalised(sum);
}

double chroma_similarity(const Chroma& a, const Chroma& b) {
  double dot = 0, norm_a = 0, norm_b = 0;
  for (std::size_t c = 0; c < 12; ++c) {
    dot += double(a[c]) * b[c];
    norm_a += double(a[c]) * a[c];
    norm_b += double(b[c]) * b[c];
  }
  const bool silent_a = norm_a < 1e-12, silent_b = norm_b < 1e-12;
  if (silent_a || silent_b) return silent_a && silent_b ? 1.0 : 0.0;
  return std::clamp(dot / std::sqrt(norm_a * norm_b), 0.0, 1.0);
}

}  // namespace ferry::agent::loop
