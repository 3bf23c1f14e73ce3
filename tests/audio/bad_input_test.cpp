// Inputs the decoder must refuse with a clear error naming the file.

#include <gtest/gtest.h>

#include <random>

#include "agent/audio/decoder.hpp"
#include "audio_test_support.hpp"

namespace ferry::audio {
namespace {

using namespace testing;

Error open_error(const std::filesystem::path& path) {
  auto decoder = AudioDecoder::open(path, DecodeOptions{std::nullopt, std::nullopt, std::nullopt, "user-file.bin"});
  EXPECT_FALSE(decoder) << path << " opened";
  if (decoder) return Error{};
  EXPECT_NE(decoder.error().message.find("user-file.bin"), std::string::npos) << decoder.error().message;
  return decoder.error();
}

// Reads to the end; the first error, or nullopt when the whole file decoded.
std::optional<Error> read_error(const std::filesystem::path& path) {
  auto audio = decode_all(path);
  if (audio) return std::nullopt;
  return audio.error();
}

TEST(BadInput, MissingFileIsNotFound) {
  TempDir dir;
  EXPECT_EQ(open_error(dir / "absent.wav").code, ErrorCode::not_found);
}

TEST(BadInput, FolderIsNotFound) {
  TempDir dir;
  EXPECT_EQ(open_error(dir.path()).code, ErrorCode::not_found);
}

TEST(BadInput, EmptyFileIsInvalid) {
  TempDir dir;
  write_bytes(dir / "empty.mp3", "");
  auto error = open_error(dir / "empty.mp3");
  EXPECT_EQ(error.code, ErrorCode::invalid_argument);
  EXPECT_NE(error.message.find("empty"), std::string::npos);
}

TEST(BadInput, RandomBytesAreRejected) {
  TempDir dir;
  std::mt19937 random(42);
  std::string noise(64 * 1024, '\0');
  for (char& c : noise) c = static_cast<char>(random());
  write_bytes(dir / "noise.mp3", noise);
  auto error = open_error(dir / "noise.mp3");
  EXPECT_TRUE(error.code == ErrorCode::invalid_argument || error.code == ErrorCode::data_loss)
      << to_string(error.code) << ": " << error.message;
}

TEST(BadInput, TextFileHasNoAudio) {
  TempDir dir;
  write_bytes(dir / "notes.txt", "These are not the samples you are looking for.\nSecond line.\n");
  auto error = open_error(dir / "notes.txt");
  EXPECT_EQ(error.code, ErrorCode::invalid_argument);
}

TEST(BadInput, VideoWithoutAudioTrackHasNoAudioStream) {
  if (!ffmpeg_available()) GTEST_SKIP() << "the ffmpeg tool is not installed";
  TempDir dir;
  ASSERT_TRUE(run_ffmpeg("-f lavfi -i testsrc=size=160x120:rate=10:duration=1 -c:v mpeg4 " +
                         (dir / "silent-film.mp4").string()));
  auto error = open_error(dir / "silent-film.mp4");
  EXPECT_EQ(error.code, ErrorCode::invalid_argument);
  EXPECT_NE(error.message.find("no audio stream"), std::string::npos) << error.message;
}

// Decision: a file whose data ends well before the length its header states
// is refused as truncated (data_loss) rather than converted short.
TEST(BadInput, WavTruncatedInTheMiddleIsDataLoss) {
  TempDir dir;
  write_wav_s16(dir / "whole.wav", tones({440.0}, 44100, 88200), 44100, 1);
  auto bytes = read_bytes(dir / "whole.wav");
  write_bytes(dir / "cut.wav", bytes.substr(0, bytes.size() / 2));
  EXPECT_FALSE(read_error(dir / "whole.wav"));
  auto error = read_error(dir / "cut.wav");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, ErrorCode::data_loss);
  EXPECT_NE(error->message.find("truncated"), std::string::npos) << error->message;
  EXPECT_NE(error->message.find("cut.wav"), std::string::npos) << error->message;
}

TEST(BadInput, Mp3WithALengthHeaderCutShortIsDataLoss) {
  if (!ffmpeg_available()) GTEST_SKIP() << "the ffmpeg tool is not installed";
  TempDir dir;
  ASSERT_TRUE(run_ffmpeg("-f lavfi -i sine=frequency=440:duration=4 -c:a libmp3lame " + (dir / "whole.mp3").string()));
  auto bytes = read_bytes(dir / "whole.mp3");
  write_bytes(dir / "cut.mp3", bytes.substr(0, bytes.size() / 2));
  EXPECT_FALSE(read_error(dir / "whole.mp3"));
  auto error = read_error(dir / "cut.mp3");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, ErrorCode::data_loss);
  EXPECT_NE(error->message.find("truncated"), std::string::npos) << error->message;
}

TEST(BadInput, Mp4CutShortIsRejected) {
  if (!ffmpeg_available()) GTEST_SKIP() << "the ffmpeg tool is not installed";
  TempDir dir;
  ASSERT_TRUE(run_ffmpeg("-f lavfi -i sine=frequency=440:duration=3 -c:a aac " + (dir / "whole.m4a").string()));
  auto bytes = read_bytes(dir / "whole.m4a");
  write_bytes(dir / "cut.m4a", bytes.substr(0, bytes.size() / 2));
  auto opened = AudioDecoder::open(dir / "cut.m4a");
  if (opened) {
    auto error = read_error(dir / "cut.m4a");
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code, ErrorCode::data_loss);
  } else {
    EXPECT_TRUE(opened.error().code == ErrorCode::invalid_argument || opened.error().code == ErrorCode::data_loss);
  }
}

}  // namespace
}  // namespace ferry::audio
