#pragma once
// Reading the length a RIFF/WAVE header announces. FFmpeg's WAV demuxer
// quietly clamps it to the file size, so a truncated upload would decode as
// a shorter, "valid" file; comparing the two catches it.

#include <cstdint>
#include <optional>
#include <string_view>

namespace ferry::audio {

/// Where the "data" chunk of a classic RIFF/WAVE file starts and how many
/// bytes its header announces.
struct WavDataChunk {
  std::uint64_t offset = 0;  ///< first byte of the samples
  std::uint64_t size = 0;    ///< as announced
};

/// Finds the data chunk in the first bytes of a file. nullopt when it is not
/// classic RIFF/WAVE (RF64 keeps sizes elsewhere), when the data chunk lies
/// beyond `head`, or when the size is a placeholder (0 or 0xFFFFFFFF, written
/// by streaming tools that never came back to fill it in).
std::optional<WavDataChunk> find_wav_data_chunk(std::string_view head);

}  // namespace ferry::audio
