// Finding the announced length in a WAV header.

#include <gtest/gtest.h>

#include "agent/audio/wav_header.hpp"

namespace ferry::audio {
namespace {

std::string u32(std::uint32_t value) {
  std::string out;
  for (int i = 0; i < 4; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

std::string riff(const std::string& chunks) { return "RIFF" + u32(4 + chunks.size()) + "WAVE" + chunks; }

TEST(WavHeader, FindsTheDataChunkAfterOtherChunks) {
  std::string fmt = "fmt " + u32(16) + std::string(16, '\0');
  std::string odd = "LIST" + u32(3) + "abc" + std::string(1, '\0');  // padded to even
  auto chunk = find_wav_data_chunk(riff(fmt + odd + "data" + u32(1000)));
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->offset, 12u + 24u + 12u + 8u);
  EXPECT_EQ(chunk->size, 1000u);
}

TEST(WavHeader, IgnoresPlaceholderSizesAndOtherFormats) {
  EXPECT_FALSE(find_wav_data_chunk(riff("data" + u32(0xFFFFFFFFu))));
  EXPECT_FALSE(find_wav_data_chunk(riff("data" + u32(0))));
  EXPECT_FALSE(find_wav_data_chunk("RF64" + u32(0xFFFFFFFFu) + "WAVEds64"));
  EXPECT_FALSE(find_wav_data_chunk("ID3\x03 not a wav at all"));
  EXPECT_FALSE(find_wav_data_chunk(riff("fmt " + u32(1u << 30))));  // data chunk beyond what was read
  EXPECT_FALSE(find_wav_data_chunk(""));
}

}  // namespace
}  // namespace ferry::audio
