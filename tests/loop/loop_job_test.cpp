// The loop job end to end on local files: generated material written as
// 16-bit WAV, looped through the real decoder, analysis, renderer and encoder,
// and the output decoded again.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "agent/audio/decoder.hpp"
#include "agent/engines/engine.hpp"
#include "agent/engines/loop_job.hpp"
#include "audio_test_support.hpp"
#include "test_signals.hpp"

namespace ferry::agent {
namespace {

namespace at = audio::testing;
namespace fs = std::filesystem;
using config::AudioFormat;
using loop::testing::TestSignal;

config::LoopParams loop_of(double seconds, AudioFormat format = AudioFormat::flac) {
  config::LoopParams params;
  params.duration_s = seconds;
  params.format = format;
  // No fade-out by default here: the seams are measured on the output as is.
  params.fade_out_s = 0.0;
  return params;
}

// Seconds from `frame` to the nearest true beat of `signal`.
double seconds_to_nearest_beat(const TestSignal& signal, double seconds) {
  double best = std::numeric_limits<double>::infinity();
  for (std::int64_t beat : signal.beats)
    best = std::min(best, std::abs(seconds - static_cast<double>(beat) / signal.sample_rate));
  return best;
}

class LoopJobTest : public ::testing::Test {
 protected:
  LoopJobTest() {
    fs::create_directories(out_dir());
    context_.output_dir = out_dir();
    context_.scratch_dir = dir_.path();
    context_.cancel = &cancel_;
    context_.report = [this](const Progress& progress) {
      reports_.push_back(progress);
      if (cancel_after_loop_reports_ > 0 && progress.stage == "loop" && --cancel_after_loop_reports_ == 0)
        cancel_ = true;
    };
  }

  fs::path out_dir() const { return dir_ / "out"; }

  // Writes `signal` as a 16-bit WAV called `name`; returns what the file holds.
  TestSignal write_input(TestSignal signal, const std::string& name) {
    signal.samples = at::quantize_to_s16(std::move(signal.samples));
    at::write_wav_s16(dir_ / name, signal.samples, signal.sample_rate, signal.channels);
    return signal;
  }

  Result<std::vector<OutputFile>> loop(const config::LoopParams& params, const std::string& name,
                                       const std::string& shown_name = {}) {
    return run_loop(params, {LocalInput{dir_ / name, shown_name.empty() ? name : shown_name}}, context_);
  }

  std::vector<std::string> files_in_output() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(out_dir())) names.push_back(entry.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

  static audio::DecodedAudio decode(const fs::path& path) {
    auto audio = audio::decode_all(path);
    EXPECT_TRUE(audio) << audio.error().describe();
    return audio ? std::move(*audio) : audio::DecodedAudio{};
  }

  at::TempDir dir_;
  std::atomic<bool> cancel_{false};
  int cancel_after_loop_reports_ = 0;
  EngineContext context_;
  std::vector<Progress> reports_;
};

class LoopJobFormats : public LoopJobTest, public ::testing::WithParamInterface<AudioFormat> {};

TEST_P(LoopJobFormats, ClickTrackLoopsToTheExactLengthWithLoopPointsOnTheBeat) {
  const TestSignal input = write_input(loop::testing::click_track(120, 12.0), "clicks.wav");
  auto outputs = loop(loop_of(30.0, GetParam()), "clicks.wav");
  ASSERT_TRUE(outputs) << outputs.error().describe();
  ASSERT_EQ(outputs->size(), 1u);
  const std::string expected_name = GetParam() == AudioFormat::flac ? "clicks_loop.flac" : "clicks_loop.wav";
  EXPECT_EQ((*outputs)[0].name, expected_name);
  EXPECT_EQ(files_in_output(), std::vector<std::string>{expected_name}) << "no temporary file is left";

  const auto output = decode((*outputs)[0].path);
  EXPECT_EQ(output.sample_rate, 44100);
  EXPECT_EQ(output.channels, 2);
  EXPECT_EQ(output.frames(), 30u * 44100u) << "exact to the sample";

  const auto& result = context_.result;
  ASSERT_TRUE(result.is_object()) << result.dump();
  EXPECT_FALSE(result["fallback"].get<bool>()) << result.dump();
  EXPECT_TRUE(result["fallback_reason"].is_null());
  EXPECT_NEAR(result["tempo_bpm"].get<double>(), 120.0, 2.4);
  EXPECT_LE(seconds_to_nearest_beat(input, result["loop_start_s"].get<double>()), 0.010) << result.dump();
  EXPECT_LE(seconds_to_nearest_beat(input, result["loop_end_s"].get<double>()), 0.010) << result.dump();
  EXPECT_GT(result["seams"].get<std::int64_t>(), 1);
  EXPECT_EQ(result["frames"].get<std::int64_t>(), 30 * 44100);
  EXPECT_DOUBLE_EQ(result["duration_s"].get<double>(), 30.0);

  // The seams add no step larger than the input's own largest (plus one
  // 16-bit step of rounding).
  const float input_step = loop::testing::largest_step(input.samples, input.channels);
  EXPECT_LE(loop::testing::largest_step(output.samples, output.channels), input_step + 2.0f / 32768.0f);
}

INSTANTIATE_TEST_SUITE_P(LosslessFormats, LoopJobFormats, ::testing::Values(AudioFormat::flac, AudioFormat::wav),
                         [](const auto& info) { return std::string(config::file_extension(info.param)); });

TEST_F(LoopJobTest, ChordProgressionLoopsOnTheBeatWithoutFallback) {
  const TestSignal input = write_input(loop::testing::chord_progression(100, 3), "chords.wav");
  auto outputs = loop(loop_of(40.0), "chords.wav");
  ASSERT_TRUE(outputs) << outputs.error().describe();
  EXPECT_EQ(decode((*outputs)[0].path).frames(), 40u * 44100u);
  const auto& result = context_.result;
  EXPECT_FALSE(result["fallback"].get<bool>()) << result.dump();
  EXPECT_LE(seconds_to_nearest_beat(input, result["loop_start_s"].get<double>()), 0.010) << result.dump();
  EXPECT_LE(seconds_to_nearest_beat(input, result["loop_end_s"].get<double>()), 0.010) << result.dump();
}

TEST_F(LoopJobTest, NoiseFallsBackToAWholeTrackCrossfadeAndSaysWhy) {
  write_input(loop::testing::white_noise(6.0), "noise.wav");
  auto outputs = loop(loop_of(20.0), "noise.wav");
  ASSERT_TRUE(outputs) << outputs.error().describe();
  EXPECT_EQ(decode((*outputs)[0].path).frames(), 20u * 44100u);
  const auto& result = context_.result;
  EXPECT_TRUE(result["fallback"].get<bool>()) << result.dump();
  ASSERT_TRUE(result["fallback_reason"].is_string());
  EXPECT_FALSE(result["fallback_reason"].get<std::string>().empty());
  EXPECT_EQ(result["curve"], "equal_power") << "unrelated material keeps its level with equal power";
  EXPECT_GT(result["crossfade_s"].get<double>(), 0.5);
}

TEST_F(LoopJobTest, VeryShortInputFallsBackAndStillFillsTheDuration) {
  write_input(loop::testing::short_tone(0.5), "blip.wav");
  auto outputs = loop(loop_of(10.0, AudioFormat::wav), "blip.wav");
  ASSERT_TRUE(outputs) << outputs.error().describe();
  EXPECT_EQ(decode((*outputs)[0].path).frames(), 10u * 44100u);
  EXPECT_TRUE(context_.result["fallback"].get<bool>());
  EXPECT_NE(context_.result["fallback_reason"].get<std::string>().find("only 0.50 s long"), std::string::npos)
      << context_.result.dump();
}

TEST_F(LoopJobTest, SilenceLoopsToSilenceOfTheExactLength) {
  write_input(loop::testing::silence(3.0), "quiet.wav");
  auto outputs = loop(loop_of(5.0, AudioFormat::wav), "quiet.wav");
  ASSERT_TRUE(outputs) << outputs.error().describe();
  const auto output = decode((*outputs)[0].path);
  EXPECT_EQ(output.frames(), 5u * 44100u);
  EXPECT_TRUE(std::all_of(output.samples.begin(), output.samples.end(), [](float s) { return s == 0.0f; }));
  EXPECT_TRUE(context_.result["fallback"].get<bool>());
}

TEST_F(LoopJobTest, FadesTheWholeOutputInAndOut) {
  write_input(loop::testing::click_track(120, 12.0), "clicks.wav");
  auto params = loop_of(20.0, AudioFormat::wav);
  params.fade_in_s = 1.0;
  params.fade_out_s = 2.0;
  auto outputs = loop(params, "clicks.wav");
  ASSERT_TRUE(outputs) << outputs.error().describe();
  const auto output = decode((*outputs)[0].path);
  ASSERT_EQ(output.frames(), 20u * 44100u);
  EXPECT_EQ(output.samples.front(), 0.0f);
  EXPECT_EQ(output.samples.back(), 0.0f);
  EXPECT_DOUBLE_EQ(context_.result["fade_in_s"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(context_.result["fade_out_s"].get<double>(), 2.0);
}

TEST_F(LoopJobTest, ReportsProgressBySecondsWrittenUpToTheWhole) {
  write_input(loop::testing::click_track(120, 8.0), "clicks.wav");
  ASSERT_TRUE(loop(loop_of(60.0), "clicks.wav"));
  std::vector<Progress> looping;
  for (const auto& report : reports_)
    if (report.stage == "loop") looping.push_back(report);
  ASSERT_GE(looping.size(), 2u);
  for (std::size_t i = 1; i < looping.size(); ++i) EXPECT_GE(looping[i].done, looping[i - 1].done);
  EXPECT_DOUBLE_EQ(looping.back().done, 60.0);
  EXPECT_DOUBLE_EQ(looping.back().total, 60.0);
  EXPECT_EQ(reports_.front().stage, "analyse");
}

TEST_F(LoopJobTest, CancelStopsAndLeavesNoFileThatLooksComplete) {
  write_input(loop::testing::click_track(120, 8.0), "clicks.wav");
  cancel_after_loop_reports_ = 1;  // the first report of the render itself
  auto outputs = loop(loop_of(3600.0), "clicks.wav");
  ASSERT_FALSE(outputs);
  EXPECT_EQ(outputs.error().code, ErrorCode::cancelled);
  EXPECT_TRUE(files_in_output().empty()) << "neither the output nor its temporary file remains";
  for (const auto& report : reports_) {
    if (report.stage == "loop") {
      EXPECT_LT(report.done, 3600.0);
    }
  }
}

TEST_F(LoopJobTest, RejectsBadDurationsBeforeTouchingTheInput) {
  write_input(loop::testing::click_track(120, 4.0), "clicks.wav");
  for (double seconds : {0.0, -3600.0, 11.0 * 3600.0, std::nan("")}) {
    auto outputs = loop(loop_of(seconds), "clicks.wav");
    ASSERT_FALSE(outputs) << seconds;
    EXPECT_EQ(outputs.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(outputs.error().field, "params.duration_s");
  }
  EXPECT_TRUE(reports_.empty());
  EXPECT_TRUE(files_in_output().empty());
}

TEST_F(LoopJobTest, RejectsAnInputThatIsNotAudioNamingIt) {
  at::write_bytes(dir_ / "notes.txt", "not audio at all");
  auto outputs = loop(loop_of(30.0), "notes.txt");
  ASSERT_FALSE(outputs);
  EXPECT_EQ(outputs.error().field, "inputs[0]");
  EXPECT_NE(outputs.error().message.find("notes.txt"), std::string::npos) << outputs.error().message;
  EXPECT_TRUE(files_in_output().empty());
}

TEST_F(LoopJobTest, TakesExactlyOneInput) {
  write_input(loop::testing::click_track(120, 4.0), "clicks.wav");
  LocalInput one{dir_ / "clicks.wav", "clicks.wav"};
  auto outputs = run_loop(loop_of(30.0), {one, one}, context_);
  ASSERT_FALSE(outputs);
  EXPECT_EQ(outputs.error().field, "inputs");
}

TEST_F(LoopJobTest, NamesTheOutputAfterTheInputsOriginalName) {
  write_input(loop::testing::click_track(120, 4.0), "upload-1");
  auto outputs = loop(loop_of(5.0, AudioFormat::mp3), "upload-1", "My Song.wav");
  ASSERT_TRUE(outputs) << outputs.error().describe();
  EXPECT_EQ((*outputs)[0].name, "My_Song_loop.mp3");
  const auto output = decode((*outputs)[0].path);
  EXPECT_NEAR(static_cast<double>(output.frames()) / output.sample_rate, 5.0, 0.1);
}

TEST(LoopFadeOut, DefaultsToFiveSecondsButAtMostATenthOfTheOutput) {
  config::LoopParams params;
  params.duration_s = 7200;
  EXPECT_EQ(loop_fade_out_s(params), 5.0);
  params.duration_s = 20;
  EXPECT_EQ(loop_fade_out_s(params), 2.0);
  params.fade_out_s = 12.0;
  EXPECT_EQ(loop_fade_out_s(params), 12.0);
}

TEST(LoopOutputName, IsTheSafeStemWithLoopAndTheFormatsExtension) {
  EXPECT_EQ(loop_output_name("track.mp3", AudioFormat::flac), "track_loop.flac");
  EXPECT_EQ(loop_output_name("a b.final.wav", AudioFormat::wav_f32), "a_b.final_loop.wav");
}

}  // namespace
}  // namespace ferry::agent
