#include "agent/audio/wav_header.hpp"

namespace ferry::audio {

namespace {

std::uint32_t read_u32le(std::string_view bytes, std::size_t at) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
  return value;
}

}  // namespace

std::optional<WavDataChunk> find_wav_data_chunk(std::string_view head) {
  if (head.size() < 12 || head.substr(0, 4) != "RIFF" || head.substr(8, 4) != "WAVE") return std::nullopt;
  std::uint64_t at = 12;
  while (at + 8 <= head.size()) {
    std::string_view id = head.substr(at, 4);
    std::uint32_t size = read_u32le(head, at + 4);
    if (id == "data") {
      if (size == 0 || size == 0xFFFFFFFFu) return std::nullopt;
      return WavDataChunk{at + 8, size};
    }
    at += 8 + static_cast<std::uint64_t>(size) + (size & 1);  // chunks are padded to even sizes
  }
  return std::nullopt;
}

}  // namespace ferry::audio
