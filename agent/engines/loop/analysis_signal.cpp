#include "agent/engines/loop/analysis_signal.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>

#include "agent/engines/loop/fft.hpp"

namespace ferry::agent::loop {

AnalysisSignal reduce_rate(const MonoView& mono, int sample_rate, double target_rate) {
  AnalysisSignal out;
  out.decimation = std::max(1, int(std::lround(double(sample_rate) / target_rate)));
  out.rate = double(sample_rate) / out.decimation;
  const std::size_t d = std::size_t(out.decimation);
  // Block averaging is a crude low-pass, but features above ~2 kHz matter
  // little here and aliasing only adds a little noise to the flux.
  out.samples.resize(std::size_t(mono.size()) / d);
  for (std::size_t i = 0; i < out.samples.size(); ++i) {
    float sum = 0;
    for (std::size_t k = 0; k < d; ++k) sum += mono[std::int64_t(i * d + k)];
    out.samples[i] = sum / float(d);
  }
  return out;
}

std::size_t spectrum_frame_count(std::size_t signal_length, std::size_t hop) {
  return signal_length / hop + 1;
}

void for_each_spectrum(std::span<const float> signal, std::size_t window, std::size_t hop,
                       const std::function<void(std::size_t, std::span<const float>)>& visit) {
  RealFft fft(window);
  std::vector<float> hann(window);
  double window_sum = 0;
  for (std::size_t i = 0; i < window; ++i) {
    hann[i] = float(0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * double(i) / double(window)));
    window_sum += hann[i];
  }
  const float magnitude_scale = float(2.0 / window_sum);
  std::vector<float> frame(window);
  std::vector<std::complex<float>> spectrum(fft.bins());
  std::vector<float> magnitudes(fft.bins());
  const std::size_t frames = spectrum_frame_count(signal.size(), hop);
  const std::ptrdiff_t half = std::ptrdiff_t(window / 2);
  for (std::size_t f = 0; f < frames; ++f) {
    const std::ptrdiff_t first = std::ptrdiff_t(f * hop) - half;
    for (std::size_t i = 0; i < window; ++i) {
      const std::ptrdiff_t at = first + std::ptrdiff_t(i);
      const bool inside = at >= 0 && at < std::ptrdiff_t(signal.size());
      frame[i] = inside ? signal[std::size_t(at)] * hann[i] : 0.0f;
    }
    fft.forward(frame, spectrum);
    for (std::size_t k = 0; k < spectrum.size(); ++k) magnitudes[k] = std::sqrt(std::norm(spectrum[k])) * magnitude_scale;
    visit(f, magnitudes);
  }
}

}  // namespace ferry::agent::loop
