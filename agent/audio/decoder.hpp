#pragma once
// Streaming audio decoding: any container or codec FFmpeg reads (WAV, FLAC,
// MP3, AAC/M4A, Opus, the audio track of a video) to interleaved 32-bit float
// at a chosen rate and channel count. Memory stays bounded by one block,
// whatever the length of the input.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace ferry::audio {

/// What the caller wants out of a decoder. Unset fields keep the source's value.
struct DecodeOptions {
  std::optional<int> sample_rate;       ///< output rate in Hz (resampled with libswresample)
  /// 1 or 2. Downmixes keep peaks in range (stereo to mono is (L + R) / 2);
  /// mono to stereo copies the channel to both sides.
  std::optional<int> channels;
  std::optional<double> max_duration_s; ///< stop after this much output
  std::string display_name;             ///< names the input in errors; the file name when empty
};

/// Facts about the source stream, known once the decoder is open.
struct SourceInfo {
  std::string container;  ///< demuxer name, e.g. "wav", "mov,mp4,m4a,3gp,3g2,mj2"
  std::string codec;      ///< decoder name, e.g. "pcm_s16le", "mp3float", "aac"
  int sample_rate = 0;    ///< of the decoded frames (may differ from the header, e.g. HE-AAC)
  int channels = 0;
  std::optional<double> duration_s;  ///< from the container, when it states one
};

/// Reads one audio stream block by block. Move-only; closing is automatic.
class AudioDecoder {
 public:
  /// Opens `path`, picks its best audio stream and decodes the first frame, so
  /// an unreadable input fails here. Errors: not_found (no such file),
  /// invalid_argument (empty file, not a media file, no audio stream),
  /// unsupported (no decoder for the codec), data_loss (corrupt data).
  static Result<AudioDecoder> open(const std::filesystem::path& path, const DecodeOptions& options = {});

  AudioDecoder(AudioDecoder&&) noexcept;
  AudioDecoder& operator=(AudioDecoder&&) noexcept;
  ~AudioDecoder();

  const SourceInfo& info() const;
  /// Output format: what read() delivers.
  int sample_rate() const;
  int channels() const;

  /// Fills `interleaved` (room for max_frames * channels() floats) with up to
  /// `max_frames` frames; returns fewer only at the end, and 0 once the end is
  /// reached. A source that ends well before the length its container states
  /// is reported as data_loss (truncated file) instead of a short result.
  Result<std::size_t> read(float* interleaved, std::size_t max_frames);

  /// Output frames delivered so far.
  std::int64_t frames_read() const;

 private:
  struct State;
  explicit AudioDecoder(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// A whole track in memory, interleaved.
struct DecodedAudio {
  std::vector<float> samples;
  int sample_rate = 0;
  int channels = 0;
  SourceInfo source;

  std::size_t frames() const { return channels > 0 ? samples.size() / static_cast<std::size_t>(channels) : 0; }
};

/// Decodes all of `path` (up to options.max_duration_s) into memory: for
/// engines that need the whole track at once.
Result<DecodedAudio> decode_all(const std::filesystem::path& path, const DecodeOptions& options = {});

/// Opens `path` only to read its SourceInfo (validates it decodes, too).
Result<SourceInfo> probe(const std::filesystem::path& path);

}  // namespace ferry::audio
