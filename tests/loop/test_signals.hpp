#pragma once
// Generated test material for the loop engine and the measurements the
// tests make on rendered output.

#include <cstdint>
#include <vector>

#include "agent/engines/loop/render_plan.hpp"

namespace ferry::agent::loop::testing {

/// Interleaved audio plus the frames where its beats truly are.
struct TestSignal {
  std::vector<float> samples;
  int channels = 1;
  int sample_rate = 44100;
  std::vector<std::int64_t> beats;
  std::int64_t frames() const { return std::int64_t(samples.size()) / channels; }
};

/// Short 1 kHz clicks on every beat, the first of each bar of four louder,
/// after a 0.25 s lead-in.
TestSignal click_track(double bpm, double seconds, int sample_rate = 44100, int channels = 2);

/// Sustained triads of the I-V-vi-IV progression in C, four beats each, with
/// a kick drum on every beat; notes keep their phase across chords, so the
/// progression does not repeat sample for sample.
TestSignal chord_progression(double bpm, int cycles, int sample_rate = 44100);

/// Gaussian white noise, fixed seed.
TestSignal white_noise(double seconds, int sample_rate = 44100);

/// A 440 Hz tone with a click 0.1 s in.
TestSignal short_tone(double seconds, int sample_rate = 44100);

/// All zeros.
TestSignal silence(double seconds, int sample_rate = 44100);

/// Largest absolute difference between consecutive frames of any channel.
float largest_step(const std::vector<float>& interleaved, int channels);

/// Renders a whole plan into memory with blocks of `block_frames`.
std::vector<float> render_all(const TestSignal& input, const RenderPlan& plan, std::int64_t block_frames = 4096);

/// Spectral flux of the mono mix: one value per frame of 1024 samples,
/// every 512 samples (frame i starts at sample i * 512).
std::vector<double> spectral_flux(const std::vector<float>& interleaved, int channels);

}  // namespace ferry::agent::loop::testing
