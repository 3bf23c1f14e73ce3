#pragma once
// Streaming audio encoding from interleaved 32-bit float to WAV (16-bit PCM
// or 32-bit float, RF64 past 4 GiB), FLAC (16-bit) or MP3 (LAME). Output goes
// to a hidden temporary file beside the target and is renamed into place only
// by finish(), so a file under its final name is always complete.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "config/job_spec.hpp"

namespace ferry::audio {

/// What to write. 16-bit formats clip samples to [-1, 1]; wav-f32 keeps them as they are.
struct EncodeOptions {
  config::AudioFormat format = config::AudioFormat::wav;
  int sample_rate = 44100;
  int channels = 2;
  std::optional<int> bitrate_kbps;  ///< MP3 only (8 to 320); LAME's default (128 kbps CBR) when unset
};

/// Writes one output file block by block. Move-only. Destroying an encoder
/// that was not finished removes its temporary file.
class AudioEncoder {
 public:
  /// Opens the temporary file and writes the header. Errors: invalid_argument
  /// (bad channels, rate or bitrate), unsupported (e.g. MP3 above 48 kHz or
  /// with more than 2 channels), io_error (the folder cannot be written).
  static Result<AudioEncoder> create(const std::filesystem::path& path, const EncodeOptions& options);

  AudioEncoder(AudioEncoder&&) noexcept;
  AudioEncoder& operator=(AudioEncoder&&) noexcept;
  ~AudioEncoder();

  /// Encodes `frames` frames of `channels()` interleaved samples. Any block
  /// size works: samples are regrouped into the codec's frame size here.
  Status write(const float* interleaved, std::size_t frames);
  /// Flushes the codec, completes the container and renames the file to its
  /// final name. Nothing may be written afterwards.
  Status finish();

  const std::filesystem::path& path() const;          ///< final name
  const std::filesystem::path& partial_path() const;  ///< name while being written
  int sample_rate() const;
  int channels() const;
  std::int64_t frames_written() const;
  bool finished() const;

 private:
  struct State;
  explicit AudioEncoder(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// The temporary name an encoder writes `target` under: ".<name>.partial" in
/// the same folder (same file system, so the final rename is atomic).
std::filesystem::path partial_path_for(const std::filesystem::path& target);

/// Options given to FFmpeg's muxer for `format`: WAV gets rf64=auto, which
/// turns the header into RF64 when the file passes 4 GiB.
std::vector<std::pair<std::string, std::string>> muxer_options(config::AudioFormat format);

/// The sample rate closest to `sample_rate` that `format` can store (MP3:
/// 8000 to 48000 Hz in fixed steps; the others store any rate).
int nearest_supported_sample_rate(config::AudioFormat format, int sample_rate);

/// How many channels `format` can store (MP3: 2, FLAC: 8).
int max_channels(config::AudioFormat format);

}  // namespace ferry::audio
