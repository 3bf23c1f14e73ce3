// AudioDecoder on inputs made without ferry's encoder: a hand-written WAV
// and files from the ffmpeg tool.

#include <gtest/gtest.h>

#include <cmath>

#include "agent/audio/decoder.hpp"
#include "audio_test_support.hpp"

namespace ferry::audio {
namespace {

using namespace testing;

#define REQUIRE_FFMPEG() \
  if (!ffmpeg_available()) GTEST_SKIP() << "the ffmpeg tool is not installed"

DecodedAudio decode(const std::filesystem::path& path, const DecodeOptions& options = {}) {
  auto audio = decode_all(path, options);
  EXPECT_TRUE(audio) << audio.error().describe();
  return audio ? std::move(*audio) : DecodedAudio{};
}

TEST(Decoder, ReportsTheSourceAndDeliversItUnchangedByDefault) {
  TempDir dir;
  auto signal = quantize_to_s16(tones({440.0, 1000.0}, 48000, 24000));
  write_wav_s16(dir / "in.wav", signal, 48000, 2);
  auto decoder = AudioDecoder::open(dir / "in.wav");
  ASSERT_TRUE(decoder) << decoder.error().describe();
  EXPECT_EQ(decoder->info().container, "wav");
  EXPECT_EQ(decoder->info().codec, "pcm_s16le");
  EXPECT_EQ(decoder->info().sample_rate, 48000);
  EXPECT_EQ(decoder->info().channels, 2);
  ASSERT_TRUE(decoder->info().duration_s);
  EXPECT_NEAR(*decoder->info().duration_s, 0.5, 1e-6);
  EXPECT_EQ(decoder->sample_rate(), 48000);
  EXPECT_EQ(decoder->channels(), 2);
  auto probed = probe(dir / "in.wav");
  ASSERT_TRUE(probed);
  EXPECT_EQ(probed->codec, "pcm_s16le");
  EXPECT_EQ(probed->duration_s, decoder->info().duration_s);

  std::vector<float> out(signal.size() + 100);
  std::size_t total = 0;
  // Odd block sizes cross the decoder's frame boundaries.
  while (true) {
    auto got = decoder->read(out.data() + total * 2, std::min<std::size_t>(333, out.size() / 2 - total));
    ASSERT_TRUE(got) << got.error().describe();
    if (*got == 0) break;
    total += *got;
  }
  EXPECT_EQ(total, 24000u);
  EXPECT_EQ(decoder->frames_read(), 24000);
  out.resize(total * 2);
  EXPECT_EQ(out, signal);
  auto after_end = decoder->read(out.data(), 10);
  ASSERT_TRUE(after_end);
  EXPECT_EQ(*after_end, 0u);
}

TEST(Decoder, ResamplingFrom48kTo44k1KeepsFrequencyAndLength) {
  TempDir dir;
  write_wav_s16(dir / "in.wav", tones({1000.0}, 48000, 96000), 48000, 1);
  auto audio = decode(dir / "in.wav", DecodeOptions{44100, std::nullopt, std::nullopt, {}});
  EXPECT_EQ(audio.sample_rate, 44100);
  EXPECT_NEAR(static_cast<double>(audio.frames()), 88200.0, 4.0);
  EXPECT_NEAR(tone_amplitude(audio.samples, 44100, 1000.0), 0.5, 0.01);
  // A sine read at the wrong rate would show up at 1000 * 48000 / 44100 Hz.
  EXPECT_LT(tone_amplitude(audio.samples, 44100, 1088.4), 0.02);
}

TEST(Decoder, MonoDownmixAveragesTheChannels) {
  TempDir dir;
  write_wav_s16(dir / "in.wav", tones({440.0, 1500.0}, 44100, 44100, 0.8), 44100, 2);
  auto audio = decode(dir / "in.wav", DecodeOptions{std::nullopt, 1, std::nullopt, {}});
  EXPECT_EQ(audio.channels, 1);
  EXPECT_EQ(audio.frames(), 44100u);
  EXPECT_NEAR(tone_amplitude(audio.samples, 44100, 440.0), 0.4, 0.01);
  EXPECT_NEAR(tone_amplitude(audio.samples, 44100, 1500.0), 0.4, 0.01);
}

TEST(Decoder, MonoToStereoCopiesTheChannelToBothSides) {
  TempDir dir;
  auto signal = quantize_to_s16(tones({300.0}, 22050, 5000));
  write_wav_s16(dir / "in.wav", signal, 22050, 1);
  auto audio = decode(dir / "in.wav", DecodeOptions{std::nullopt, 2, std::nullopt, {}});
  ASSERT_EQ(audio.channels, 2);
  EXPECT_EQ(channel(audio.samples, 2, 0), signal);
  EXPECT_EQ(channel(audio.samples, 2, 1), signal);
}

TEST(Decoder, MaxDurationStopsTheOutput) {
  TempDir dir;
  write_wav_s16(dir / "in.wav", tones({300.0}, 8000, 16000), 8000, 1);
  auto audio = decode(dir / "in.wav", DecodeOptions{16000, std::nullopt, 0.25, {}});
  EXPECT_EQ(audio.frames(), 4000u);
}

TEST(Decoder, RejectsBadOptions) {
  TempDir dir;
  write_wav_s16(dir / "in.wav", tones({300.0}, 8000, 800), 8000, 1);
  auto channels = AudioDecoder::open(dir / "in.wav", DecodeOptions{std::nullopt, 3, std::nullopt, {}});
  ASSERT_FALSE(channels);
  EXPECT_EQ(channels.error().code, ErrorCode::invalid_argument);
  auto rate = AudioDecoder::open(dir / "in.wav", DecodeOptions{10, std::nullopt, std::nullopt, {}});
  ASSERT_FALSE(rate);
  EXPECT_EQ(rate.error().code, ErrorCode::invalid_argument);
}

TEST(Decoder, ReadsTheAudioTrackOfAVideo) {
  REQUIRE_FFMPEG();
  TempDir dir;
  ASSERT_TRUE(run_ffmpeg("-f lavfi -i testsrc=size=160x120:rate=10:duration=2 -f lavfi -i sine=frequency=1000:"
                         "sample_rate=48000:duration=2 -c:v mpeg4 -c:a aac -b:a 128k -shortest " +
                         (dir / "clip.mp4").string()));
  auto audio = decode(dir / "clip.mp4", DecodeOptions{44100, 2, std::nullopt, {}});
  EXPECT_EQ(audio.source.codec, "aac");
  EXPECT_EQ(audio.source.sample_rate, 48000);
  EXPECT_EQ(audio.channels, 2);
  EXPECT_NEAR(static_cast<double>(audio.frames()) / 44100.0, 2.0, 0.05);
  // lavfi's sine source has amplitude 1/8.
  EXPECT_NEAR(tone_amplitude(channel(audio.samples, 2, 0), 44100, 1000.0), 0.125, 0.01);
}

TEST(Decoder, ReadsAnMp3FromTheFfmpegTool) {
  REQUIRE_FFMPEG();
  TempDir dir;
  ASSERT_TRUE(run_ffmpeg("-f lavfi -i sine=frequency=440:sample_rate=44100:duration=1.5 -c:a libmp3lame -b:a 128k " +
                         (dir / "tone.mp3").string()));
  auto audio = decode(dir / "tone.mp3");
  EXPECT_EQ(audio.sample_rate, 44100);
  EXPECT_EQ(audio.channels, 1);
  EXPECT_NEAR(static_cast<double>(audio.frames()), 1.5 * 44100, 1152.0);
  EXPECT_NEAR(tone_amplitude(audio.samples, 44100, 440.0), 0.125, 0.01);
}

TEST(Decoder, FollowsASampleRateChangeInTheMiddleOfAStream) {
  REQUIRE_FFMPEG();
  TempDir dir;
  // Two headerless MP3s back to back: frames switch from 44.1 to 32 kHz.
  const std::string plain = " -c:a libmp3lame -write_xing 0 -id3v2_version 0 -f mp3 ";
  ASSERT_TRUE(run_ffmpeg("-f lavfi -i sine=frequency=500:sample_rate=44100:duration=1" + plain +
                         (dir / "a.mp3").string()));
  ASSERT_TRUE(run_ffmpeg("-f lavfi -i sine=frequency=500:sample_rate=32000:duration=1" + plain +
                         (dir / "b.mp3").string()));
  write_bytes(dir / "joined.mp3", read_bytes(dir / "a.mp3") + read_bytes(dir / "b.mp3"));
  auto audio = decode(dir / "joined.mp3", DecodeOptions{48000, std::nullopt, std::nullopt, {}});
  EXPECT_NEAR(static_cast<double>(audio.frames()) / 48000.0, 2.0, 0.1);
  // Both parts come out at 48 kHz with the tone at its true pitch.
  auto first_half = std::vector<float>(audio.samples.begin() + 2000, audio.samples.begin() + 40000);
  auto second_half = std::vector<float>(audio.samples.begin() + 60000, audio.samples.end() - 2000);
  EXPECT_NEAR(tone_amplitude(first_half, 48000, 500.0), 0.125, 0.015);
  EXPECT_NEAR(tone_amplitude(second_half, 48000, 500.0), 0.125, 0.015);
}

TEST(Decoder, StreamingReadsMatchDecodeAll) {
  TempDir dir;
  write_wav_s16(dir / "in.wav", tones({440.0, 550.0}, 48000, 30000), 48000, 2);
  const DecodeOptions options{44100, 1, std::nullopt, {}};
  auto whole = decode(dir / "in.wav", options);
  auto decoder = AudioDecoder::open(dir / "in.wav", options);
  ASSERT_TRUE(decoder);
  std::vector<float> streamed, block(1000);
  while (true) {
    auto got = decoder->read(block.data(), block.size());
    ASSERT_TRUE(got);
    if (*got == 0) break;
    streamed.insert(streamed.end(), block.begin(), block.begin() + static_cast<std::ptrdiff_t>(*got));
  }
  EXPECT_EQ(streamed, whole.samples);
}

TEST(Decoder, SilentInputIsValid) {
  TempDir dir;
  write_wav_s16(dir / "silence.wav", std::vector<float>(8000, 0.0f), 8000, 1);
  auto audio = decode(dir / "silence.wav");
  EXPECT_EQ(audio.frames(), 8000u);
  EXPECT_EQ(max_abs_difference(audio.samples, std::vector<float>(8000, 0.0f)), 0.0);
}

}  // namespace
}  // namespace ferry::audio
