#pragma once
// Signals, files and measurements shared by the audio tests. Inputs are
// generated here (a hand-written WAV writer and the ffmpeg tool), so the
// tests of the decoder do not depend on ferry's encoder.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ferry::audio::testing {

/// A fresh folder under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// Interleaved tones: channel c is a sine of frequencies[c] at `amplitude`.
std::vector<float> tones(const std::vector<double>& frequencies, int sample_rate, std::size_t frames,
                         double amplitude = 0.5);

/// Rounds floats to 16-bit values (as x / 32768), so a 16-bit file can hold them exactly.
std::vector<float> quantize_to_s16(std::vector<float> samples);

/// Writes a canonical 16-bit PCM WAV by hand (independent of FFmpeg).
void write_wav_s16(const std::filesystem::path& path, const std::vector<float>& interleaved, int sample_rate,
                   int channels);

/// Runs the ffmpeg tool with `arguments` (quiet, overwrite); true on success.
/// Tests skip themselves when it is not installed.
bool ffmpeg_available();
bool run_ffmpeg(const std::string& arguments);

/// Writes `contents` to a file / reads a whole file.
void write_bytes(const std::filesystem::path& path, const std::string& contents);
std::string read_bytes(const std::filesystem::path& path);

/// One channel out of interleaved samples.
std::vector<float> channel(const std::vector<float>& interleaved, int channels, int index);

/// Amplitude of the `frequency` component of `signal` (correlation with sine
/// and cosine over a whole number of samples, Hann-windowed).
double tone_amplitude(const std::vector<float>& signal, int sample_rate, double frequency);

/// Largest absolute difference, over the common length.
double max_abs_difference(const std::vector<float>& a, const std::vector<float>& b);

/// Signal-to-noise ratio in dB of `test` against `reference`, over the
/// common length after skipping `margin` samples at each end.
double snr_db(const std::vector<float>& reference, const std::vector<float>& test, std::size_t margin);

}  // namespace ferry::audio::testing
