#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "agent/engines/loop/loop_analysis.hpp"
#include "test_signals.hpp"

namespace ferry::agent::loop {
namespace {

using testing::TestSignal;

LoopAnalysis analyse_signal(const TestSignal& signal, const LoopOptions& options = {}) {
  auto analysis = analyse(signal.samples.data(), signal.frames(), signal.channels, signal.sample_rate, options);
  EXPECT_TRUE(analysis.has_value()) << (analysis ? "" : analysis.error().describe());
  return analysis ? *analysis : LoopAnalysis{};
}

// Distance in seconds from `frame` to the nearest true beat.
double seconds_to_nearest_beat(const TestSignal& signal, std::int64_t frame) {
  std::int64_t nearest = INT64_MAX;
  for (std::int64_t beat : signal.beats) nearest = std::min(nearest, std::abs(beat - frame));
  return double(nearest) / signal.sample_rate;
}

void expect_on_beat(const TestSignal& signal, std::int64_t frame, const char* what) {
  EXPECT_LE(seconds_to_nearest_beat(signal, frame), 0.010) << what << " at frame " << frame;
}

// Loop length in beats of the signal's true period.
double loop_length_in_beats(const TestSignal& signal, const LoopAnalysis& analysis, double bpm) {
  return double(analysis.loop_frames()) / (60.0 / bpm * signal.sample_rate);
}

// The fallback loops the whole track; its end may move back by up to 20 ms
// so that tones meet in phase.
void expect_ends_at_the_end(const TestSignal& signal, const LoopAnalysis& analysis) {
  EXPECT_LE(analysis.loop_end, signal.frames());
  EXPECT_GE(analysis.loop_end, signal.frames() - signal.sample_rate / 50);
  EXPECT_EQ(analysis.loop_start, analysis.crossfade.length());
}

class ClickTrackTempi : public ::testing::TestWithParam<double> {};

TEST_P(ClickTrackTempi, FindsTheTempoAndPutsTheLoopOnWholeBars) {
  const double bpm = GetParam();
  const TestSignal signal = testing::click_track(bpm, 30.0);
  const LoopAnalysis analysis = analyse_signal(signal);

  ASSERT_FALSE(analysis.fallback) << analysis.fallback_reason;
  EXPECT_NEAR(analysis.tempo_bpm, bpm, 0.02 * bpm);
  EXPECT_GT(analysis.tempo_confidence, 0.5);
  expect_on_beat(signal, analysis.loop_start, "loop start");
  expect_on_beat(signal, analysis.loop_end, "loop end");
  // Accents mark the bars: a loop of whole bars keeps them in place.
  const double beats = loop_length_in_beats(signal, analysis, bpm);
  EXPECT_NEAR(beats / 4.0, std::round(beats / 4.0), 0.01 * 60 / bpm * 4) << beats << " beats";
  EXPECT_GE(analysis.loop_frames(), std::int64_t(0.35 * double(signal.frames())));
  EXPECT_EQ(analysis.curve, CrossfadeCurve::linear) << "clicks against clicks are near-identical";
  EXPECT_GT(analysis.seam_similarity, 0.9);
}

TEST_P(ClickTrackTempi, FindsMostBeatsWithinTenMilliseconds) {
  const double bpm = GetParam();
  const TestSignal signal = testing::click_track(bpm, 30.0);
  const LoopAnalysis analysis = analyse_signal(signal);
  ASSERT_GE(analysis.beats.size(), signal.beats.size() - 2);
  std::size_t on_beat = 0;
  for (std::int64_t beat : analysis.beats) on_beat += seconds_to_nearest_beat(signal, beat) <= 0.010;
  EXPECT_GE(double(on_beat), 0.95 * double(signal.beats.size()));
}

INSTANTIATE_TEST_SUITE_P(Bpm, ClickTrackTempi, ::testing::Values(120.0, 97.0));

TEST(LoopAnalysis, LoopsAChordProgressionOverWholeCycles) {
  const double bpm = 100;
  const TestSignal signal = testing::chord_progression(bpm, 4);
  const LoopAnalysis analysis = analyse_signal(signal);

  ASSERT_FALSE(analysis.fallback) << analysis.fallback_reason;
  EXPECT_NEAR(analysis.tempo_bpm, bpm, 0.02 * bpm);
  expect_on_beat(signal, analysis.loop_start, "loop start");
  expect_on_beat(signal, analysis.loop_end, "loop end");
  // Only a jump across whole cycles of four chords keeps the harmony.
  const double cycles = loop_length_in_beats(signal, analysis, bpm) / 16.0;
  EXPECT_NEAR(cycles, std::round(cycles), 0.01) << cycles << " cycles";
  EXPECT_GE(std::round(cycles), 1.0);
  EXPECT_GT(analysis.seam_similarity, 0.9);
}

TEST(LoopAnalysis, SnapsLoopPointsToZeroCrossings) {
  const TestSignal signal = testing::chord_progression(100, 4);
  const LoopAnalysis analysis = analyse_signal(signal);
  ASSERT_FALSE(analysis.fallback);
  auto mono = [&](std::int64_t frame) {
    return 0.5f * (signal.samples[std::size_t(2 * frame)] + signal.samples[std::size_t(2 * frame + 1)]);
  };
  for (std::int64_t point : {analysis.loop_start, analysis.loop_end}) {
    const bool sign_change = (mono(point - 1) <= 0) != (mono(point) <= 0) || (mono(point) <= 0) != (mono(point + 1) <= 0);
    EXPECT_TRUE(sign_change || mono(point) == 0.0f) << "frame " << point;
  }
}

TEST(LoopAnalysis, FallsBackOnNoiseBecauseThereIsNoBeat) {
  const TestSignal signal = testing::white_noise(15.0);
  const LoopAnalysis analysis = analyse_signal(signal);
  EXPECT_TRUE(analysis.fallback);
  EXPECT_NE(analysis.fallback_reason.find("no steady beat"), std::string::npos) << analysis.fallback_reason;
  EXPECT_LT(analysis.tempo_confidence, 0.2);
  // The whole track, its end crossfaded into its start, over three seconds.
  expect_ends_at_the_end(signal, analysis);
  EXPECT_EQ(analysis.crossfade.length(), 3 * signal.sample_rate);
  EXPECT_EQ(analysis.curve, CrossfadeCurve::equal_power) << "unrelated noise needs equal power";
}

TEST(LoopAnalysis, FallsBackOnSilence) {
  const TestSignal signal = testing::silence(5.0);
  const LoopAnalysis analysis = analyse_signal(signal);
  EXPECT_TRUE(analysis.fallback);
  EXPECT_NE(analysis.fallback_reason.find("silent"), std::string::npos) << analysis.fallback_reason;
  EXPECT_EQ(analysis.loop_end, signal.frames());
  EXPECT_GT(analysis.loop_frames(), 0);
}

TEST(LoopAnalysis, FallsBackOnAVeryShortInputWithAProportionateCrossfade) {
  const TestSignal signal = testing::short_tone(0.5);
  const LoopAnalysis analysis = analyse_signal(signal);
  EXPECT_TRUE(analysis.fallback);
  EXPECT_NE(analysis.fallback_reason.find("0.50 s"), std::string::npos) << analysis.fallback_reason;
  EXPECT_EQ(analysis.crossfade.length(), signal.frames() / 4);
  expect_ends_at_the_end(signal, analysis);
}

TEST(LoopAnalysis, HandlesAnInputOfOneFrame) {
  const float one = 0.5f;
  auto analysis = analyse(&one, 1, 1, 44100);
  ASSERT_TRUE(analysis.has_value());
  EXPECT_TRUE(analysis->fallback);
  EXPECT_EQ(analysis->loop_start, 0);
  EXPECT_EQ(analysis->loop_end, 1);
}

TEST(LoopAnalysis, IsDeterministic) {
  const TestSignal signal = testing::chord_progression(100, 3);
  const LoopAnalysis first = analyse_signal(signal);
  const LoopAnalysis second = analyse_signal(signal);
  EXPECT_EQ(first.loop_start, second.loop_start);
  EXPECT_EQ(first.loop_end, second.loop_end);
  EXPECT_EQ(first.beats, second.beats);
  EXPECT_EQ(first.tempo_bpm, second.tempo_bpm);
}

TEST(LoopAnalysis, RejectsMalformedArgumentsNamingTheField) {
  const std::vector<float> samples(1000, 0.0f);
  struct Case {
    const float* data;
    std::int64_t frames;
    int channels;
    int rate;
    const char* field;
  };
  for (const Case& bad : {Case{samples.data(), 0, 1, 44100, "frames"}, Case{samples.data(), 500, 0, 44100, "channels"},
                          Case{samples.data(), 500, 2, 0, "sample_rate"}, Case{nullptr, 500, 2, 44100, "interleaved"}}) {
    auto result = analyse(bad.data, bad.frames, bad.channels, bad.rate);
    ASSERT_FALSE(result.has_value()) << bad.field;
    EXPECT_EQ(result.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(result.error().field, bad.field);
    EXPECT_FALSE(result.error().message.empty());
  }
  LoopOptions options;
  options.min_loop_fraction = 2.0;
  auto result = analyse(samples.data(), 1000, 1, 44100, options);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().field, "min_loop_fraction");
}

}  // namespace
}  // namespace ferry::agent::loop
