// Encoding generated signals with AudioEncoder and decoding them back with
// AudioDecoder: each format keeps what it promises.

#include <gtest/gtest.h>

#include <cmath>

#include "agent/audio/decoder.hpp"
#include "agent/audio/encoder.hpp"
#include "audio_test_support.hpp"

namespace ferry::audio {
namespace {

using config::AudioFormat;
using namespace testing;

constexpr int kRate = 44100;

void encode(const std::filesystem::path& path, const std::vector<float>& samples, AudioFormat format, int channels,
            int rate = kRate, std::size_t block_frames = 4096) {
  auto encoder = AudioEncoder::create(path, EncodeOptions{format, rate, channels, std::nullopt});
  ASSERT_TRUE(encoder) << encoder.error().describe();
  const std::size_t frames = samples.size() / static_cast<std::size_t>(channels);
  for (std::size_t at = 0; at < frames; at += block_frames) {
    std::size_t take = std::min(block_frames, frames - at);
    ASSERT_TRUE(encoder->write(samples.data() + at * channels, take));
  }
  auto finished = encoder->finish();
  ASSERT_TRUE(finished) << finished.error().describe();
}

DecodedAudio decode(const std::filesystem::path& path, const DecodeOptions& options = {}) {
  auto audio = decode_all(path, options);
  EXPECT_TRUE(audio) << audio.error().describe();
  return audio ? std::move(*audio) : DecodedAudio{};
}

TEST(RoundTrip, Wav16BitIsWithinHalfAnLsbAndKeepsLength) {
  TempDir dir;
  auto signal = tones({440.0, 1000.0}, kRate, 22050, 0.8);
  encode(dir / "out.wav", signal, AudioFormat::wav, 2);
  auto audio = decode(dir / "out.wav");
  EXPECT_EQ(audio.sample_rate, kRate);
  EXPECT_EQ(audio.channels, 2);
  EXPECT_EQ(audio.source.codec, "pcm_s16le");
  ASSERT_EQ(audio.samples.size(), signal.size());
  EXPECT_LE(max_abs_difference(signal, audio.samples), 0.5 / 32768.0 + 1e-9);
}

TEST(RoundTrip, WavFloatIsExactIncludingSamplesBeyondFullScale) {
  TempDir dir;
  auto signal = tones({440.0, 1000.0}, kRate, 10000, 1.5);
  encode(dir / "out.wav", signal, AudioFormat::wav_f32, 2);
  auto audio = decode(dir / "out.wav");
  EXPECT_EQ(audio.source.codec, "pcm_f32le");
  EXPECT_EQ(audio.samples, signal);
}

TEST(RoundTrip, Flac16BitDecodesToExactlyTheSameSamplesAs16BitWav) {
  TempDir dir;
  auto signal = tones({220.0, 3000.0}, kRate, 30001, 0.9);
  encode(dir / "out.wav", signal, AudioFormat::wav, 2);
  encode(dir / "out.flac", signal, AudioFormat::flac, 2, kRate, 1000);
  auto wav = decode(dir / "out.wav");
  auto flac = decode(dir / "out.flac");
  EXPECT_EQ(flac.source.codec, "flac");
  ASSERT_EQ(flac.samples.size(), signal.size());
  EXPECT_EQ(flac.samples, wav.samples);
}

TEST(RoundTrip, SixteenBitFormatsClipOutOfRangeSamples) {
  TempDir dir;
  std::vector<float> signal = {2.0f, -3.0f, 0.25f, -1.0f, 1.0f, NAN};
  encode(dir / "out.flac", signal, AudioFormat::flac, 1);
  auto audio = decode(dir / "out.flac");
  std::vector<float> expected = {32767 / 32768.0f, -1.0f, 0.25f, -1.0f, 32767 / 32768.0f, 0.0f};
  EXPECT_EQ(audio.samples, expected);
}

TEST(RoundTrip, Mp3KeepsASineAbove20DbSnrWithEncoderDelayRemoved) {
  TempDir dir;
  const std::size_t frames = kRate * 2;
  auto signal = tones({1000.0, 1000.0}, kRate, frames, 0.5);
  encode(dir / "out.mp3", signal, AudioFormat::mp3, 2, kRate, 777);
  auto audio = decode(dir / "out.mp3");
  EXPECT_EQ(audio.source.codec.substr(0, 3), "mp3");
  // Gapless: LAME's delay and padding are recorded in the file and removed on decode.
  EXPECT_NEAR(static_cast<double>(audio.frames()), static_cast<double>(frames), 1152.0);
  auto left = channel(signal, 2, 0);
  auto decoded_left = channel(audio.samples, 2, 0);
  EXPECT_GT(snr_db(left, decoded_left, 2048), 20.0);
  EXPECT_NEAR(tone_amplitude(decoded_left, kRate, 1000.0), 0.5, 0.05);
}

TEST(RoundTrip, StereoChannelsStayOnTheirSide) {
  TempDir dir;
  auto signal = tones({440.0, 2500.0}, kRate, 20000, 0.5);
  encode(dir / "out.mp3", signal, AudioFormat::mp3, 2);
  auto audio = decode(dir / "out.mp3");
  auto left = channel(audio.samples, 2, 0);
  auto right = channel(audio.samples, 2, 1);
  EXPECT_NEAR(tone_amplitude(left, kRate, 440.0), 0.5, 0.05);
  EXPECT_LT(tone_amplitude(left, kRate, 2500.0), 0.01);
  EXPECT_NEAR(tone_amplitude(right, kRate, 2500.0), 0.5, 0.05);
  EXPECT_LT(tone_amplitude(right, kRate, 440.0), 0.01);
}

TEST(RoundTrip, BlockSizeOfWritesDoesNotChangeTheFile) {
  TempDir dir;
  auto signal = quantize_to_s16(tones({500.0}, kRate, 12345, 0.5));
  encode(dir / "one.flac", signal, AudioFormat::flac, 1, kRate, 12345);
  encode(dir / "odd.flac", signal, AudioFormat::flac, 1, kRate, 7);
  EXPECT_EQ(decode(dir / "one.flac").samples, signal);
  EXPECT_EQ(decode(dir / "odd.flac").samples, signal);
}

}  // namespace
}  // namespace ferry::audio
