// The convert engine end to end on local files.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>

#include "agent/audio/decoder.hpp"
#include "agent/engines/engine.hpp"
#include "audio_test_support.hpp"

namespace ferry::agent {
namespace {

using audio::testing::TempDir;
using config::AudioFormat;
namespace at = audio::testing;

class ConvertTest : public ::testing::Test {
 protected:
  ConvertTest() {
    std::filesystem::create_directories(out_dir());
    context_.output_dir = out_dir();
    context_.scratch_dir = dir_.path();
    context_.report = [this](const Progress& progress) { reports_.push_back(progress); };
  }

  std::filesystem::path out_dir() const { return dir_ / "out"; }

  // A 16-bit WAV input; returns its samples as floats.
  std::vector<float> make_wav(const std::string& file, std::vector<double> frequencies, int rate, std::size_t frames) {
    auto samples = at::quantize_to_s16(at::tones(frequencies, rate, frames));
    at::write_wav_s16(dir_ / file, samples, rate, static_cast<int>(frequencies.size()));
    return samples;
  }

  LocalInput input(const std::string& file, std::string name = {}) {
    return LocalInput{dir_ / file, name.empty() ? file : name};
  }

  Result<std::vector<OutputFile>> convert(const config::ConvertParams& params, const std::vector<LocalInput>& inputs) {
    return run_convert(params, inputs, context_);
  }

  std::vector<std::string> files_in_output() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(out_dir())) names.push_back(entry.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

  static audio::DecodedAudio decode(const std::filesystem::path& path) {
    auto audio = audio::decode_all(path);
    EXPECT_TRUE(audio) << audio.error().describe();
    return audio ? std::move(*audio) : audio::DecodedAudio{};
  }

  TempDir dir_;
  EngineContext context_;
  std::vector<Progress> reports_;
};

TEST_F(ConvertTest, SingleInputBecomesOneFileNamedAfterIt) {
  auto samples = make_wav("upload-1", {440.0, 660.0}, 44100, 30000);
  config::ConvertParams params;
  params.format = AudioFormat::flac;
  auto outputs = convert(params, {input("upload-1", "My Song.wav")});
  ASSERT_TRUE(outputs) << outputs.error().describe();
  ASSERT_EQ(outputs->size(), 1u);
  EXPECT_EQ((*outputs)[0].name, "My_Song.flac");
  EXPECT_EQ((*outputs)[0].path, out_dir() / "My_Song.flac");
  EXPECT_EQ(files_in_output(), std::vector<std::string>{"My_Song.flac"});
  auto audio = decode((*outputs)[0].path);
  EXPECT_EQ(audio.sample_rate, 44100);
  EXPECT_EQ(audio.samples, samples);
}

TEST_F(ConvertTest, SegmentsAreExactToTheSampleAndCoverTheInput) {
  const int rate = 11025;
  auto samples = make_wav("in.wav", {300.0, 700.0}, rate, 38000);  // 3.45 s
  config::ConvertParams params;
  params.segment_s = 0.5;  // 5512.5 frames: boundaries alternate rounding
  auto outputs = convert(params, {input("in.wav", "talk.wav")});
  ASSERT_TRUE(outputs) << outputs.error().describe();
  ASSERT_EQ(outputs->size(), 7u);
  std::vector<float> joined;
  std::int64_t start = 0;
  for (std::size_t k = 0; k < outputs->size(); ++k) {
    char expected_name[32];
    std::snprintf(expected_name, sizeof expected_name, "talk_%03zu.wav", k + 1);
    EXPECT_EQ((*outputs)[k].name, expected_name);
    auto audio = decode((*outputs)[k].path);
    std::int64_t end = std::min<std::int64_t>(std::llround((k + 1) * 0.5 * rate), 38000);
    EXPECT_EQ(static_cast<std::int64_t>(audio.frames()), end - start) << "segment " << k + 1;
    joined.insert(joined.end(), audio.samples.begin(), audio.samples.end());
    start = end;
  }
  EXPECT_EQ(joined, samples);
}

TEST_F(ConvertTest, CutPointsPastTheEndCreateNoEmptySegments) {
  make_wav("in.wav", {440.0}, 8000, 16000);  // 2 s
  config::ConvertParams params;
  params.cut_points_s = {0.5, 1.25, 2.0, 5.0};
  auto outputs = convert(params, {input("in.wav")});
  ASSERT_TRUE(outputs) << outputs.error().describe();
  EXPECT_EQ(files_in_output(), (std::vector<std::string>{"in_001.wav", "in_002.wav", "in_003.wav"}));
  std::vector<std::size_t> frames;
  for (const auto& output : *outputs) frames.push_back(decode(output.path).frames());
  EXPECT_EQ(frames, (std::vector<std::size_t>{4000, 6000, 6000}));
}

TEST_F(ConvertTest, ResamplesDownmixesAndEncodesMp3AtTheBitrate) {
  make_wav("in.wav", {1000.0, 1000.0}, 48000, 96000);
  config::ConvertParams params;
  params.format = AudioFormat::mp3;
  params.mono = true;
  params.sample_rate = 44100;
  params.bitrate_kbps = 64;
  auto outputs = convert(params, {input("in.wav", "tone.wav")});
  ASSERT_TRUE(outputs) << outputs.error().describe();
  ASSERT_EQ(outputs->size(), 1u);
  EXPECT_EQ((*outputs)[0].name, "tone.mp3");
  auto audio = decode((*outputs)[0].path);
  EXPECT_EQ(audio.sample_rate, 44100);
  EXPECT_EQ(audio.channels, 1);
  EXPECT_NEAR(static_cast<double>(audio.frames()), 88200.0, 1152.0);
  EXPECT_NEAR(at::tone_amplitude(audio.samples, 44100, 1000.0), 0.5, 0.05);
  double kbps = static_cast<double>(std::filesystem::file_size((*outputs)[0].path)) * 8 / 1000 / 2.0;
  EXPECT_NEAR(kbps, 64.0, 8.0);
}

TEST_F(ConvertTest, Mp3OfAHighRateSourcePicksTheNearestMp3Rate) {
  make_wav("in.wav", {1000.0}, 96000, 9600);
  config::ConvertParams params;
  params.format = AudioFormat::mp3;
  auto outputs = convert(params, {input("in.wav")});
  ASSERT_TRUE(outputs) << outputs.error().describe();
  EXPECT_EQ(decode((*outputs)[0].path).sample_rate, 48000);
}

TEST_F(ConvertTest, InputsWithTheSameStemGetDistinctNames) {
  make_wav("a", {440.0}, 8000, 800);
  make_wav("b", {440.0}, 8000, 800);
  auto outputs = convert(config::ConvertParams{}, {input("a", "song.mp3"), input("b", "song.wav")});
  ASSERT_TRUE(outputs) << outputs.error().describe();
  EXPECT_EQ(files_in_output(), (std::vector<std::string>{"song.wav", "song_2.wav"}));
}

TEST_F(ConvertTest, ReportsProgressInSecondsOfInput) {
  make_wav("a", {440.0}, 8000, 16000);
  make_wav("b", {440.0}, 8000, 8000);
  auto outputs = convert(config::ConvertParams{}, {input("a"), input("b")});
  ASSERT_TRUE(outputs);
  ASSERT_FALSE(reports_.empty());
  for (const auto& report : reports_) {
    EXPECT_EQ(report.stage, "convert");
    EXPECT_NEAR(report.total, 3.0, 1e-6);
  }
  EXPECT_NEAR(reports_.back().done, 3.0, 1e-6);
  for (std::size_t i = 1; i < reports_.size(); ++i) EXPECT_GE(reports_[i].done, reports_[i - 1].done);
}

TEST_F(ConvertTest, CancelStopsEarlyAndLeavesNoFinalFile) {
  make_wav("done.wav", {440.0}, 44100, 44100);
  make_wav("long.wav", {440.0, 550.0}, 44100, 44100 * 20);
  std::atomic<bool> cancel{false};
  context_.cancel = &cancel;
  double cancelled_at = -1;
  context_.report = [&](const Progress& progress) {
    if (progress.done > 3.0 && !cancel) {
      cancelled_at = progress.done;
      cancel = true;
    }
    reports_.push_back(progress);
  };
  config::ConvertParams params;
  params.segment_s = 10;
  auto outputs = convert(params, {input("done.wav"), input("long.wav")});
  ASSERT_FALSE(outputs);
  EXPECT_EQ(outputs.error().code, ErrorCode::cancelled);
  EXPECT_LT(reports_.back().done, cancelled_at + 1.0);  // no more than a block after the request
  EXPECT_TRUE(std::filesystem::is_empty(out_dir())) << files_in_output().front();
}

TEST_F(ConvertTest, ABadInputFailsTheJobNamingItAndLeavesNothing) {
  make_wav("good.wav", {440.0}, 8000, 8000);
  at::write_bytes(dir_ / "bad", "just some text\n");
  auto outputs = convert(config::ConvertParams{}, {input("good.wav"), input("bad", "notes.txt")});
  ASSERT_FALSE(outputs);
  EXPECT_EQ(outputs.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(outputs.error().field, "inputs[1]");
  EXPECT_NE(outputs.error().message.find("notes.txt"), std::string::npos) << outputs.error().message;
  EXPECT_TRUE(std::filesystem::is_empty(out_dir()));
}

TEST_F(ConvertTest, ATruncatedInputFailsAfterOthersWithoutLeavingTheirOutputs) {
  make_wav("good.wav", {440.0}, 8000, 8000);
  make_wav("whole.wav", {440.0}, 8000, 80000);
  auto bytes = at::read_bytes(dir_ / "whole.wav");
  at::write_bytes(dir_ / "cut.wav", bytes.substr(0, bytes.size() / 3));
  auto outputs = convert(config::ConvertParams{}, {input("good.wav"), input("cut.wav")});
  ASSERT_FALSE(outputs);
  EXPECT_EQ(outputs.error().code, ErrorCode::data_loss);
  EXPECT_EQ(outputs.error().field, "inputs[1]");
  EXPECT_TRUE(std::filesystem::is_empty(out_dir()));
}

TEST_F(ConvertTest, MissingInputIsNotFound) {
  auto outputs = convert(config::ConvertParams{}, {input("nowhere.wav")});
  ASSERT_FALSE(outputs);
  EXPECT_EQ(outputs.error().code, ErrorCode::not_found);
}

TEST_F(ConvertTest, SilentInputConverts) {
  at::write_wav_s16(dir_ / "quiet.wav", std::vector<float>(16000, 0.0f), 8000, 2);
  config::ConvertParams params;
  params.format = AudioFormat::mp3;
  auto outputs = convert(params, {input("quiet.wav")});
  ASSERT_TRUE(outputs) << outputs.error().describe();
  auto audio = decode((*outputs)[0].path);
  EXPECT_NEAR(static_cast<double>(audio.frames()), 8000.0, 1152.0);
}

TEST_F(ConvertTest, RejectsASampleRateTheFormatCannotStore) {
  make_wav("in.wav", {440.0}, 8000, 800);
  config::ConvertParams params;
  params.format = AudioFormat::mp3;
  params.sample_rate = 96000;
  auto outputs = convert(params, {input("in.wav")});
  ASSERT_FALSE(outputs);
  EXPECT_EQ(outputs.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(outputs.error().field, "params.sample_rate");
}

}  // namespace
}  // namespace ferry::agent
