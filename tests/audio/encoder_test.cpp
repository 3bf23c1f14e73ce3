// AudioEncoder's file handling and option checks.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "agent/audio/encoder.hpp"
#include "agent/audio/sample_packing.hpp"
#include "audio_test_support.hpp"

namespace ferry::audio {
namespace {

using config::AudioFormat;
using namespace testing;

std::string read_prefix(const std::filesystem::path& path, std::size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  std::string data(bytes, '\0');
  in.read(data.data(), static_cast<std::streamsize>(bytes));
  data.resize(static_cast<std::size_t>(in.gcount()));
  return data;
}

TEST(Encoder, WritesUnderAHiddenPartialNameUntilFinished) {
  TempDir dir;
  auto encoder = AudioEncoder::create(dir / "song.flac", EncodeOptions{AudioFormat::flac, 44100, 2, std::nullopt});
  ASSERT_TRUE(encoder) << encoder.error().describe();
  EXPECT_EQ(encoder->partial_path(), dir / ".song.flac.partial");
  auto signal = tones({440.0, 880.0}, 44100, 5000);
  ASSERT_TRUE(encoder->write(signal.data(), 5000));
  EXPECT_TRUE(std::filesystem::exists(dir / ".song.flac.partial"));
  EXPECT_FALSE(std::filesystem::exists(dir / "song.flac"));
  ASSERT_TRUE(encoder->finish());
  EXPECT_TRUE(std::filesystem::exists(dir / "song.flac"));
  EXPECT_FALSE(std::filesystem::exists(dir / ".song.flac.partial"));
  EXPECT_EQ(encoder->frames_written(), 5000);
}

TEST(Encoder, DestroyingAnUnfinishedEncoderRemovesItsTemporaryFile) {
  TempDir dir;
  {
    auto encoder = AudioEncoder::create(dir / "song.mp3", EncodeOptions{AudioFormat::mp3, 44100, 2, 192});
    ASSERT_TRUE(encoder) << encoder.error().describe();
    auto signal = tones({440.0, 880.0}, 44100, 5000);
    ASSERT_TRUE(encoder->write(signal.data(), 5000));
    EXPECT_TRUE(std::filesystem::exists(encoder->partial_path()));
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(Encoder, NothingCanBeWrittenAfterFinish) {
  TempDir dir;
  auto encoder = AudioEncoder::create(dir / "a.wav", EncodeOptions{AudioFormat::wav, 8000, 1, std::nullopt});
  ASSERT_TRUE(encoder);
  ASSERT_TRUE(encoder->finish());
  float sample = 0;
  auto written = encoder->write(&sample, 1);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code, ErrorCode::failed_precondition);
  EXPECT_FALSE(encoder->finish());
}

TEST(Encoder, WavAsksTheMuxerForRf64WhenItOutgrowsFourGib) {
  auto options = muxer_options(AudioFormat::wav);
  ASSERT_EQ(options.size(), 1u);
  EXPECT_EQ(options[0], (std::pair<std::string, std::string>{"rf64", "auto"}));
  EXPECT_EQ(muxer_options(AudioFormat::wav_f32), options);
  EXPECT_TRUE(muxer_options(AudioFormat::flac).empty());
}

TEST(Encoder, SmallWavStaysRiffWithRoomReservedForTheRf64Header) {
  TempDir dir;
  auto encoder = AudioEncoder::create(dir / "a.wav", EncodeOptions{AudioFormat::wav, 8000, 1, std::nullopt});
  ASSERT_TRUE(encoder);
  auto signal = tones({100.0}, 8000, 800);
  ASSERT_TRUE(encoder->write(signal.data(), 800));
  ASSERT_TRUE(encoder->finish());
  auto header = read_prefix(dir / "a.wav", 16);
  ASSERT_EQ(header.size(), 16u);
  EXPECT_EQ(header.substr(0, 4), "RIFF");
  EXPECT_EQ(header.substr(8, 4), "WAVE");
  // With rf64=auto the muxer reserves a JUNK chunk it turns into ds64 past 4 GiB.
  EXPECT_EQ(header.substr(12, 4), "JUNK");
}

TEST(Encoder, RejectsSettingsTheFormatCannotStore) {
  TempDir dir;
  auto too_fast = AudioEncoder::create(dir / "a.mp3", EncodeOptions{AudioFormat::mp3, 96000, 2, std::nullopt});
  ASSERT_FALSE(too_fast);
  EXPECT_EQ(too_fast.error().code, ErrorCode::unsupported);
  EXPECT_NE(too_fast.error().message.find("48000"), std::string::npos) << too_fast.error().message;

  auto surround = AudioEncoder::create(dir / "a.mp3", EncodeOptions{AudioFormat::mp3, 44100, 6, std::nullopt});
  ASSERT_FALSE(surround);
  EXPECT_EQ(surround.error().code, ErrorCode::unsupported);

  auto bad_bitrate = AudioEncoder::create(dir / "a.mp3", EncodeOptions{AudioFormat::mp3, 44100, 2, 1000});
  ASSERT_FALSE(bad_bitrate);
  EXPECT_EQ(bad_bitrate.error().code, ErrorCode::invalid_argument);

  auto no_channels = AudioEncoder::create(dir / "a.wav", EncodeOptions{AudioFormat::wav, 44100, 0, std::nullopt});
  ASSERT_FALSE(no_channels);
  EXPECT_EQ(no_channels.error().code, ErrorCode::invalid_argument);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(Encoder, MissingFolderIsAnIoError) {
  TempDir dir;
  auto encoder = AudioEncoder::create(dir / "no" / "such" / "a.wav", EncodeOptions{});
  ASSERT_FALSE(encoder);
  EXPECT_EQ(encoder.error().code, ErrorCode::io_error);
}

TEST(Encoder, Mp3BitrateIsHonoured) {
  TempDir dir;
  auto signal = tones({440.0, 660.0}, 44100, 44100 * 2);
  for (int kbps : {96, 256}) {
    auto path = dir / (std::to_string(kbps) + "k.mp3");
    auto encoder = AudioEncoder::create(path, EncodeOptions{AudioFormat::mp3, 44100, 2, kbps});
    ASSERT_TRUE(encoder);
    ASSERT_TRUE(encoder->write(signal.data(), 44100 * 2));
    ASSERT_TRUE(encoder->finish());
    double kbits = static_cast<double>(std::filesystem::file_size(path)) * 8 / 1000 / 2.0;
    EXPECT_NEAR(kbits, kbps, kbps * 0.1);
  }
}

TEST(NearestSupportedSampleRate, PicksTheClosestMp3RateAndKeepsOthers) {
  EXPECT_EQ(nearest_supported_sample_rate(AudioFormat::mp3, 96000), 48000);
  EXPECT_EQ(nearest_supported_sample_rate(AudioFormat::mp3, 44100), 44100);
  EXPECT_EQ(nearest_supported_sample_rate(AudioFormat::mp3, 43000), 44100);
  EXPECT_EQ(nearest_supported_sample_rate(AudioFormat::mp3, 7000), 8000);
  EXPECT_EQ(nearest_supported_sample_rate(AudioFormat::flac, 96000), 96000);
  EXPECT_EQ(nearest_supported_sample_rate(AudioFormat::wav, 12345), 12345);
}

TEST(SamplePacking, SixteenBitConversionRoundsAndClips) {
  EXPECT_EQ(float_to_s16(0.0f), 0);
  EXPECT_EQ(float_to_s16(1.0f), 32767);
  EXPECT_EQ(float_to_s16(-1.0f), -32768);
  EXPECT_EQ(float_to_s16(5.0f), 32767);
  EXPECT_EQ(float_to_s16(-5.0f), -32768);
  EXPECT_EQ(float_to_s16(NAN), 0);
  EXPECT_EQ(float_to_s16(INFINITY), 32767);
  for (int value : {-32768, -12345, -1, 1, 777, 32767}) EXPECT_EQ(float_to_s16(value / 32768.0f), value);
  EXPECT_EQ(float_to_s16(1.4f / 32768.0f), 1);
  EXPECT_EQ(float_to_s16(1.6f / 32768.0f), 2);
  EXPECT_EQ(float_to_s16(-1.6f / 32768.0f), -2);
}

TEST(SamplePacking, DeinterleaveSplitsChannelsAtAnOffset) {
  const float source[] = {1, 2, 3, 4, 5, 6};
  std::vector<float> a(4, 0), b(4, 0), c(4, 0);
  float* stereo[] = {a.data(), b.data()};
  deinterleave(source, 3, 2, stereo, 1);
  EXPECT_EQ(a, (std::vector<float>{0, 1, 3, 5}));
  EXPECT_EQ(b, (std::vector<float>{0, 2, 4, 6}));
  float* three[] = {a.data(), b.data(), c.data()};
  deinterleave(source, 2, 3, three, 0);
  EXPECT_EQ(a[0], 1);
  EXPECT_EQ(b[1], 5);
  EXPECT_EQ(c[1], 6);
}

}  // namespace
}  // namespace ferry::audio
