#include "test_signals.hpp"

#include <cmath>
#include <complex>
#include <numbers>
#include <random>
#include <stdexcept>

#include "agent/engines/loop/fft.hpp"
#include "agent/engines/loop/loop_renderer.hpp"

namespace ferry::agent::loop::testing {

namespace {
constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr double kLeadIn = 0.25;

void add_click(TestSignal& signal, std::int64_t at, float amplitude) {
  const auto length = std::int64_t(0.03 * signal.sample_rate);
  for (std::int64_t i = 0; i < length && at + i < signal.frames(); ++i) {
    const double t = double(i) / signal.sample_rate;
    const auto value = float(amplitude * std::sin(kTwoPi * 1000.0 * t) * std::exp(-t / 0.008));
    for (int c = 0; c < signal.channels; ++c) signal.samples[std::size_t((at + i) * signal.channels + c)] += value;
  }
}

TestSignal empty(double seconds, int sample_rate, int channels) {
  TestSignal signal;
  signal.sample_rate = sample_rate;
  signal.channels = channels;
  signal.samples.assign(std::size_t(std::llround(seconds * sample_rate)) * std::size_t(channels), 0.0f);
  return signal;
}

std::vector<std::int64_t> beat_frames(double bpm, double seconds, int sample_rate, double tail) {
  std::vector<std::int64_t> beats;
  for (int k = 0;; ++k) {
    const double t = kLeadIn + k * 60.0 / bpm;
    if (t > seconds - tail) break;
    beats.push_back(std::int64_t(std::llround(t * sample_rate)));
  }
  return beats;
}
}  // namespace

TestSignal click_track(double bpm, double seconds, int sample_rate, int channels) {
  TestSignal signal = empty(seconds, sample_rate, channels);
  signal.beats = beat_frames(bpm, seconds, sample_rate, 0.05);
  for (std::size_t k = 0; k < signal.beats.size(); ++k) add_click(signal, signal.beats[k], k % 4 == 0 ? 0.8f : 0.5f);
  return signal;
}

TestSignal chord_progression(double bpm, int cycles, int sample_rate) {
  const double beat = 60.0 / bpm;
  const double seconds = kLeadIn + cycles * 16 * beat + 0.5;
  TestSignal signal = empty(seconds, sample_rate, 2);
  signal.beats = beat_frames(bpm, kLeadIn + cycles * 16 * beat + beat / 2, sample_rate, 0.0);
  // MIDI notes of C, G, Am and F triads.
  const int chords[4][3] = {{60, 64, 67}, {55, 59, 62}, {57, 60, 64}, {53, 57, 60}};
  double hz[4][3];
  for (int c = 0; c < 4; ++c) {
    for (int n = 0; n < 3; ++n) hz[c][n] = 440.0 * std::pow(2.0, (chords[c][n] - 69) / 12.0);
  }
  for (std::int64_t f = 0; f < signal.frames(); ++f) {
    const double t = double(f) / sample_rate;
    double left = 0, right = 0;
    if (t >= kLeadIn) {
      const double in_song = t - kLeadIn;
      const auto beat_index = std::int64_t(in_song / beat);
      // Each chord sounds for four beats, then releases over 20 ms under the
      // next, so the material has no steps of its own at chord changes.
      const std::int64_t chord_index = beat_index / 4;
      for (std::int64_t c = std::max<std::int64_t>(0, chord_index - 1); c <= chord_index && c < cycles * 4; ++c) {
        const double* chord = hz[c % 4];
        const double since_chord = in_song - double(c * 4) * beat;
        const double after_end = since_chord - 4 * beat;
        const double release = after_end <= 0 ? 1.0 : std::max(0.0, 1.0 - after_end / 0.02);
        const double envelope = std::min(1.0, since_chord / 0.005) * std::exp(-since_chord / 1.5) * release;
        for (int n = 0; n < 3; ++n) {
          const double tone = 0.12 * envelope * std::sin(kTwoPi * chord[n] * t);
          left += tone * (1.0 - 0.2 * n);
          right += tone * (0.6 + 0.2 * n);
        }
      }
      if (beat_index < cycles * 16) {
        const double since_beat = in_song - double(beat_index) * beat;
        // A kick: a falling sine, its phase the integral of 50 + 50 e^{-t/0.03} Hz.
        const double phase = kTwoPi * (50.0 * since_beat + 50.0 * 0.03 * (1.0 - std::exp(-since_beat / 0.03)));
        const double kick = 0.5 * std::sin(phase) * std::exp(-since_beat / 0.08);
        left += kick;
        right += kick;
      }
    }
    signal.samples[std::size_t(2 * f)] = float(left);
    signal.samples[std::size_t(2 * f + 1)] = float(right);
  }
  return signal;
}

TestSignal white_noise(double seconds, int sample_rate) {
  TestSignal signal = empty(seconds, sample_rate, 2);
  std::mt19937 random(20240611);
  std::normal_distribution<float> normal(0.0f, 0.2f);
  for (float& v : signal.samples) v = normal(random);
  return signal;
}

TestSignal short_tone(double seconds, int sample_rate) {
  TestSignal signal = empty(seconds, sample_rate, 2);
  for (std::int64_t f = 0; f < signal.frames(); ++f) {
    const auto value = float(0.3 * std::sin(kTwoPi * 440.0 * double(f) / sample_rate));
    signal.samples[std::size_t(2 * f)] = value;
    signal.samples[std::size_t(2 * f + 1)] = value;
  }
  add_click(signal, std::int64_t(0.1 * sample_rate), 0.5f);
  return signal;
}

TestSignal silence(double seconds, int sample_rate) { return empty(seconds, sample_rate, 2); }

float largest_step(const std::vector<float>& interleaved, int channels) {
  float largest = 0;
  for (std::size_t i = std::size_t(channels); i < interleaved.size(); ++i) {
    largest = std::max(largest, std::abs(interleaved[i] - interleaved[i - std::size_t(channels)]));
  }
  return largest;
}

std::vector<float> render_all(const TestSignal& input, const RenderPlan& plan, std::int64_t block_frames) {
  auto renderer = LoopRenderer::create(input.samples, input.channels, plan);
  if (!renderer) throw std::runtime_error(renderer.error().describe());
  std::vector<float> output(std::size_t(plan.output_frames * input.channels));
  std::int64_t at = 0;
  while (const std::int64_t written = renderer->next_block(output.data() + at * input.channels,
                                                           std::min(block_frames, plan.output_frames - at))) {
    at += written;
  }
  if (at != plan.output_frames) throw std::runtime_error("renderer stopped early");
  return output;
}

std::vector<double> spectral_flux(const std::vector<float>& interleaved, int channels) {
  constexpr std::size_t kWindow = 1024, kHop = 512;
  const std::size_t frames = interleaved.size() / std::size_t(channels);
  RealFft fft(kWindow);
  std::vector<float> frame(kWindow);
  std::vector<std::complex<float>> spectrum(fft.bins());
  std::vector<double> previous(fft.bins(), 0.0), flux;
  for (std::size_t start = 0; start + kWindow <= frames; start += kHop) {
    for (std::size_t i = 0; i < kWindow; ++i) {
      float sum = 0;
      for (int c = 0; c < channels; ++c) sum += interleaved[(start + i) * std::size_t(channels) + std::size_t(c)];
      frame[i] = sum / float(channels) * float(0.5 - 0.5 * std::cos(kTwoPi * double(i) / kWindow));
    }
    fft.forward(frame, spectrum);
    double value = 0;
    for (std::size_t k = 0; k < spectrum.size(); ++k) {
      const double magnitude = std::abs(spectrum[k]);
      value += std::max(0.0, magnitude - previous[k]);
      previous[k] = magnitude;
    }
    flux.push_back(start == 0 ? 0.0 : value);
  }
  return flux;
}

}  // namespace ferry::agent::loop::testing
