#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "agent/engines/loop/loop_analysis.hpp"
#include "agent/engines/loop/loop_renderer.hpp"
#include "agent/engines/loop/render_plan.hpp"
#include "test_signals.hpp"

namespace ferry::agent::loop {
namespace {

using testing::TestSignal;

LoopAnalysis analysis_of(const TestSignal& signal) {
  auto analysis = analyse(signal.samples.data(), signal.frames(), signal.channels, signal.sample_rate);
  if (!analysis) throw std::runtime_error(analysis.error().describe());
  return *analysis;
}

RenderPlan plan_of(const LoopAnalysis& analysis, std::int64_t output_frames, const RenderOptions& options = {}) {
  auto plan = plan_render(analysis, analysis.input_frames, output_frames, options);
  if (!plan) throw std::runtime_error(plan.error().describe());
  return *plan;
}

RenderOptions with_fades(std::int64_t fade_in, std::int64_t fade_out) {
  RenderOptions options;
  options.fade_in_frames = fade_in;
  options.fade_out_frames = fade_out;
  return options;
}

RenderOptions with_crossfade(std::int64_t frames, std::optional<CrossfadeCurve> curve = std::nullopt) {
  RenderOptions options;
  options.crossfade_frames = frames;
  options.curve = curve;
  return options;
}

// A step may exceed the input's own largest step only by float rounding.
float step_limit(float largest_input_step) { return largest_input_step * 1.0001f + 1e-6f; }

TEST(RenderPlan, AddsUpToTheRequestedLengthToTheFrame) {
  const TestSignal signal = testing::click_track(120, 12.0);
  const LoopAnalysis analysis = analysis_of(signal);
  const std::int64_t n = signal.frames();
  for (std::int64_t frames : {std::int64_t{1}, std::int64_t{4410}, n / 2, n - 1, n, n + 1, std::int64_t(3.7 * double(n))}) {
    const RenderPlan plan = plan_of(analysis, frames);
    EXPECT_EQ(plan.output_frames, frames);
    if (plan.loops) {
      EXPECT_EQ(plan.intro_frames + plan.repetitions * plan.loop_frames() + plan.tail_frames, frames) << frames;
      EXPECT_LT(plan.tail_frames, plan.loop_frames());
    } else {
      EXPECT_EQ(plan.intro_frames, frames);
    }
  }
}

TEST(RenderPlan, PlansTenHoursAt44100HzToTheFrame) {
  const TestSignal signal = testing::click_track(120, 12.0);
  const LoopAnalysis analysis = analysis_of(signal);
  const std::int64_t ten_hours = std::int64_t(10) * 3600 * 44100;  // beyond 32-bit frame counts
  const RenderPlan plan = plan_of(analysis, ten_hours);
  ASSERT_TRUE(plan.loops);
  EXPECT_EQ(plan.intro_frames + plan.repetitions * plan.loop_frames() + plan.tail_frames, ten_hours);
  // Every jump whose crossfade starts inside the output is counted.
  const std::int64_t last = plan.seam_count() - 1;
  EXPECT_LT(plan.seam_position(last) - plan.crossfade.before, ten_hours);
  EXPECT_GE(plan.seam_position(last + 1) - plan.crossfade.before, ten_hours);
}

TEST(RenderPlan, RejectsRequestsItCannotMeetNamingTheField) {
  const TestSignal signal = testing::click_track(120, 6.0);
  const LoopAnalysis analysis = analysis_of(signal);
  const std::int64_t n = signal.frames();
  auto field_of = [&](std::int64_t input_frames, std::int64_t output_frames, RenderOptions options) {
    auto plan = plan_render(analysis, input_frames, output_frames, options);
    EXPECT_FALSE(plan.has_value());
    if (plan) return std::string("(accepted)");
    EXPECT_EQ(plan.error().code, ErrorCode::invalid_argument);
    EXPECT_FALSE(plan.error().message.empty());
    return plan.error().field;
  };
  EXPECT_EQ(field_of(n, 0, {}), "duration");
  EXPECT_EQ(field_of(n, -5, {}), "duration");
  EXPECT_EQ(field_of(n + 1, n, {}), "analysis");
  EXPECT_EQ(field_of(n, 1000, with_fades(600, 600)), "fade_out");
  EXPECT_EQ(field_of(n, 1000, with_fades(-1, 0)), "fade_in");
  EXPECT_EQ(field_of(n, 1000, with_crossfade(-1)), "crossfade");
}

TEST(RenderPlan, FitsAnOverriddenCrossfadeToTheLoop) {
  const TestSignal signal = testing::click_track(120, 12.0);
  const LoopAnalysis analysis = analysis_of(signal);
  const RenderPlan cut = plan_of(analysis, 10 * signal.frames(), with_crossfade(0));
  EXPECT_EQ(cut.crossfade.length(), 0);
  const RenderPlan huge = plan_of(analysis, 10 * signal.frames(),
                                  with_crossfade(100 * signal.frames(), CrossfadeCurve::equal_power));
  EXPECT_LE(huge.crossfade.length(), huge.loop_frames());
  EXPECT_LE(huge.crossfade.before, huge.loop_start);
  EXPECT_LE(huge.loop_end + huge.crossfade.after, signal.frames());
  EXPECT_EQ(huge.curve, CrossfadeCurve::equal_power);
}

TEST(LoopRenderer, WritesExactlyTheRequestedFramesThenNothing) {
  const TestSignal signal = testing::click_track(120, 12.0);
  const LoopAnalysis analysis = analysis_of(signal);
  const std::int64_t n = signal.frames();
  for (std::int64_t frames : {std::int64_t{1}, n / 2, n, n + 1, std::int64_t(3.7 * double(n))}) {
    auto renderer = LoopRenderer::create(signal.samples, signal.channels, plan_of(analysis, frames));
    ASSERT_TRUE(renderer.has_value());
    std::vector<float> block(std::size_t(5000 * signal.channels));
    std::int64_t total = 0;
    while (const std::int64_t written = renderer->next_block(block.data(), 5000)) total += written;
    EXPECT_EQ(total, frames);
    EXPECT_TRUE(renderer->done());
    EXPECT_DOUBLE_EQ(renderer->progress(), 1.0);
    EXPECT_EQ(renderer->next_block(block.data(), 5000), 0);
  }
}

TEST(LoopRenderer, OutputWithinTheInputIsTheInputItself) {
  const TestSignal signal = testing::click_track(120, 12.0);
  const RenderPlan plan = plan_of(analysis_of(signal), signal.frames() / 2);
  EXPECT_FALSE(plan.loops);
  const std::vector<float> output = testing::render_all(signal, plan);
  EXPECT_TRUE(std::equal(output.begin(), output.end(), signal.samples.begin()));
}

TEST(LoopRenderer, BlockSizeDoesNotChangeTheOutput) {
  const TestSignal signal = testing::chord_progression(100, 3);
  const RenderPlan plan = plan_of(analysis_of(signal), 2 * signal.frames() + 12345);
  const std::vector<float> reference = testing::render_all(signal, plan, plan.output_frames);
  for (std::int64_t block : {1, 333, 4096}) {
    EXPECT_EQ(testing::render_all(signal, plan, block), reference) << "block of " << block;
  }
}

TEST(LoopRenderer, RepeatsTheLoopSampleForSampleBetweenSeams) {
  const TestSignal signal = testing::click_track(97, 12.0);
  const RenderPlan plan = plan_of(analysis_of(signal), 3 * signal.frames());
  const std::vector<float> output = testing::render_all(signal, plan);
  const int channels = signal.channels;
  // Up to the first crossfade the output is the input.
  const std::int64_t first_zone = plan.seam_position(0) - plan.crossfade.before;
  EXPECT_TRUE(std::equal(output.begin(), output.begin() + first_zone * channels, signal.samples.begin()));
  // After it, frame f and frame f + loop length carry the same samples.
  const std::int64_t period = plan.loop_frames();
  for (std::int64_t f = first_zone; f + period < plan.output_frames; f += 997) {
    for (int c = 0; c < channels; ++c) {
      ASSERT_EQ(output[std::size_t(f * channels + c)], output[std::size_t((f + period) * channels + c)]) << f;
    }
  }
}

TEST(LoopRenderer, RendersTinyInputsToTheExactLength) {
  for (const std::int64_t frames : {1, 2, 3, 100, 1000}) {
    TestSignal tiny;
    tiny.channels = 2;
    for (std::int64_t f = 0; f < 2 * frames; ++f) tiny.samples.push_back(float(std::sin(0.3 * double(f))));
    const LoopAnalysis analysis = analysis_of(tiny);
    EXPECT_TRUE(analysis.fallback);
    const RenderPlan plan = plan_of(analysis, 44100);
    EXPECT_EQ(std::int64_t(testing::render_all(tiny, plan, 1000).size()), 2 * 44100) << frames << " frames";
  }
}

TEST(LoopRenderer, RejectsAnInputThatDoesNotMatchThePlan) {
  const TestSignal signal = testing::click_track(120, 6.0);
  const RenderPlan plan = plan_of(analysis_of(signal), 2 * signal.frames());
  std::vector<float> shorter(signal.samples.begin(), signal.samples.end() - 2);
  auto renderer = LoopRenderer::create(shorter, signal.channels, plan);
  ASSERT_FALSE(renderer.has_value());
  EXPECT_EQ(renderer.error().field, "input");
  EXPECT_FALSE(LoopRenderer::create(signal.samples, 0, plan).has_value());
}

TEST(LoopRenderer, FadesRampFromAndToSilence) {
  // A constant input makes the gain itself visible in the output.
  const std::int64_t n = 44100;
  const TestSignal constant{std::vector<float>(std::size_t(2 * n), 0.5f), 2, 44100, {}};
  LoopAnalysis analysis;
  analysis.input_frames = n;
  analysis.sample_rate = 44100;
  analysis.loop_start = n / 4;
  analysis.loop_end = n;
  analysis.crossfade = fit_crossfade(2000, analysis.loop_start, analysis.loop_end, n);
  analysis.curve = CrossfadeCurve::linear;
  const std::int64_t frames = 5 * n, fade_in = 3000, fade_out = 9000;
  const RenderPlan plan = plan_of(analysis, frames, with_fades(fade_in, fade_out));
  const std::vector<float> out = testing::render_all(constant, plan, 777);
  auto left = [&](std::int64_t f) { return out[std::size_t(2 * f)]; };
  EXPECT_EQ(left(0), 0.0f);
  EXPECT_EQ(left(frames - 1), 0.0f);
  for (std::int64_t f = 1; f < fade_in; ++f) ASSERT_GE(left(f), left(f - 1)) << f;
  for (std::int64_t f = frames - fade_out + 1; f < frames; ++f) ASSERT_LE(left(f), left(f - 1)) << f;
  EXPECT_LT(left(fade_in / 10), 0.05f);
  // Between the fades, linear crossfades of identical material keep the level.
  for (std::int64_t f = fade_in; f < frames - fade_out; f += 101) ASSERT_NEAR(left(f), 0.5f, 1e-6f) << f;
}

TEST(LoopRenderer, StreamsAnHourWithBoundedMemoryAndNoClicks) {
  // Mono at 16 kHz keeps the hour quick to scan; the renderer's work per
  // frame does not depend on the rate.
  const TestSignal signal = testing::click_track(120, 20.0, 16000, 1);
  const LoopAnalysis analysis = analysis_of(signal);
  ASSERT_FALSE(analysis.fallback) << analysis.fallback_reason;
  const std::int64_t hour = std::int64_t(3600) * signal.sample_rate;
  auto renderer = LoopRenderer::create(signal.samples, 1, plan_of(analysis, hour));
  ASSERT_TRUE(renderer.has_value());
  const float limit = step_limit(testing::largest_step(signal.samples, 1));

  std::vector<float> block(8192);  // the only output memory
  std::int64_t total = 0;
  float previous = 0, largest = 0;
  double last_progress = 0;
  while (const std::int64_t written = renderer->next_block(block.data(), std::int64_t(block.size()))) {
    for (std::int64_t i = 0; i < written; ++i) {
      if (total + i > 0) largest = std::max(largest, std::abs(block[std::size_t(i)] - previous));
      previous = block[std::size_t(i)];
    }
    total += written;
    ASSERT_GE(renderer->progress(), last_progress);
    last_progress = renderer->progress();
  }
  EXPECT_EQ(total, hour);
  EXPECT_LE(largest, limit);
  EXPECT_DOUBLE_EQ(last_progress, 1.0);
}

// Seams on every kind of material: no step larger than the input's own,
// and no more spectral change than elsewhere in the output.
struct Material {
  std::string name;
  std::function<TestSignal()> make;
  bool expect_fallback;
};

class SeamsOn : public ::testing::TestWithParam<Material> {};

TEST_P(SeamsOn, AreNoRougherThanTheRestOfTheTrack) {
  const TestSignal signal = GetParam().make();
  const LoopAnalysis analysis = analysis_of(signal);
  EXPECT_EQ(analysis.fallback, GetParam().expect_fallback) << analysis.fallback_reason;
  EXPECT_EQ(analysis.fallback_reason.empty(), !analysis.fallback);

  const RenderPlan plan = plan_of(analysis, signal.frames() + 5 * analysis.loop_frames() / 2);
  const std::vector<float> output = testing::render_all(signal, plan);
  ASSERT_EQ(std::int64_t(output.size()), plan.output_frames * signal.channels);
  ASSERT_GE(plan.seam_count(), 3);

  const int channels = signal.channels;
  const float limit = step_limit(testing::largest_step(signal.samples, channels));
  auto largest_step_between = [&](std::int64_t from, std::int64_t to) {
    float largest = 0;
    for (std::int64_t f = std::max<std::int64_t>(1, from); f < std::min(to, plan.output_frames); ++f) {
      for (int c = 0; c < channels; ++c) {
        const std::size_t at = std::size_t(f * channels + c);
        largest = std::max(largest, std::abs(output[at] - output[at - std::size_t(channels)]));
      }
    }
    return largest;
  };
  const std::int64_t near = signal.sample_rate / 200;  // 5 ms
  for (std::int64_t k = 0; k < plan.seam_count(); ++k) {
    const std::int64_t seam = plan.seam_position(k);
    const std::int64_t zone_begin = seam - plan.crossfade.before, zone_end = seam + plan.crossfade.after;
    // Where the gains start and stop moving and where the source switches.
    for (std::int64_t junction : {zone_begin, seam, zone_end}) {
      EXPECT_LE(largest_step_between(junction - near, junction + near + 1), limit) << "seam " << k << " at " << junction;
    }
    // A linear crossfade is a convex blend, so no step inside it can exceed
    // the steps of its sources. (An equal-power blend of unrelated material
    // is new material, as rough as its sources only on average.)
    if (plan.curve == CrossfadeCurve::linear) {
      EXPECT_LE(largest_step_between(zone_begin - 1, zone_end + 2), limit) << "seam " << k;
    }
  }

  const std::vector<double> flux = testing::spectral_flux(output, channels);
  double seam_flux = 0, other_flux = 0;
  for (std::size_t i = 1; i < flux.size(); ++i) {
    const auto begin = std::int64_t(i * 512), end = begin + 1024;
    bool at_seam = false;
    for (std::int64_t k = 0; k < plan.seam_count(); ++k) {
      const std::int64_t zone_begin = plan.seam_position(k) - plan.crossfade.before;
      const std::int64_t zone_end = std::max(plan.seam_position(k) + plan.crossfade.after, zone_begin + 1);
      at_seam = at_seam || (begin < zone_end && zone_begin < end);
    }
    (at_seam ? seam_flux : other_flux) = std::max(at_seam ? seam_flux : other_flux, flux[i]);
  }
  EXPECT_LE(seam_flux, 1.05 * other_flux + 1e-9);
}

INSTANTIATE_TEST_SUITE_P(
    Materials, SeamsOn,
    ::testing::Values(Material{"clicks_120", [] { return testing::click_track(120, 12.0); }, false},
                      Material{"clicks_97", [] { return testing::click_track(97, 12.0); }, false},
                      Material{"chords", [] { return testing::chord_progression(100, 3); }, false},
                      Material{"noise", [] { return testing::white_noise(15.0); }, true},
                      Material{"short", [] { return testing::short_tone(0.5); }, true},
                      Material{"silence", [] { return testing::silence(4.0); }, true}),
    [](const ::testing::TestParamInfo<Material>& info) { return info.param.name; });

TEST(LoopRenderer, EqualPowerCrossfadeKeepsTheLevelOfUnrelatedNoise) {
  const TestSignal signal = testing::white_noise(15.0);
  const LoopAnalysis analysis = analysis_of(signal);
  ASSERT_EQ(analysis.curve, CrossfadeCurve::equal_power);
  const RenderPlan plan = plan_of(analysis, 2 * signal.frames());
  const std::vector<float> output = testing::render_all(signal, plan);
  auto rms = [](const std::vector<float>& samples, std::size_t from, std::size_t to) {
    double sum = 0;
    for (std::size_t i = from; i < to; ++i) sum += double(samples[i]) * samples[i];
    return std::sqrt(sum / double(to - from));
  };
  // The middle third of the crossfade, where a linear fade would dip by 3 dB.
  const std::int64_t zone = plan.seam_position(0) - plan.crossfade.before;
  const std::int64_t third = plan.crossfade.length() / 3;
  const double middle = rms(output, std::size_t((zone + third) * 2), std::size_t((zone + 2 * third) * 2));
  const double whole = rms(signal.samples, 0, signal.samples.size());
  EXPECT_NEAR(20 * std::log10(middle / whole), 0.0, 0.5);
}

}  // namespace
}  // namespace ferry::agent::loop
