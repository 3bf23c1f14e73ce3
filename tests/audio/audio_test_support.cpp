#include "audio_test_support.hpp"

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace ferry::audio::testing {

TempDir::TempDir() {
  auto pattern = (std::filesystem::temp_directory_path() / "ferry-audio-test-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::vector<float> tones(const std::vector<double>& frequencies, int sample_rate, std::size_t frames,
                         double amplitude) {
  const std::size_t channels = frequencies.size();
  std::vector<float> samples(frames * channels);
  for (std::size_t i = 0; i < frames; ++i) {
    for (std::size_t c = 0; c < channels; ++c) {
      samples[i * channels + c] =
          static_cast<float>(amplitude * std::sin(2.0 * M_PI * frequencies[c] * static_cast<double>(i) / sample_rate));
    }
  }
  return samples;
}

std::vector<float> quantize_to_s16(std::vector<float> samples) {
  for (float& sample : samples) sample = static_cast<float>(std::lround(sample * 32768.0)) / 32768.0f;
  return samples;
}

namespace {

void put_u32(std::string& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}
void put_u16(std::string& out, std::uint16_t value) {
  out += static_cast<char>(value & 0xff);
  out += static_cast<char>(value >> 8);
}

}  // namespace

void write_wav_s16(const std::filesystem::path& path, const std::vector<float>& interleaved, int sample_rate,
                   int channels) {
  const std::uint32_t data_bytes = static_cast<std::uint32_t>(interleaved.size() * 2);
  std::string out = "RIFF";
  put_u32(out, 36 + data_bytes);
  out += "WAVEfmt ";
  put_u32(out, 16);
  put_u16(out, 1);  // PCM
  put_u16(out, static_cast<std::uint16_t>(channels));
  put_u32(out, static_cast<std::uint32_t>(sample_rate));
  put_u32(out, static_cast<std::uint32_t>(sample_rate * channels * 2));
  put_u16(out, static_cast<std::uint16_t>(channels * 2));
  put_u16(out, 16);
  out += "data";
  put_u32(out, data_bytes);
  for (float sample : interleaved) {
    long value = std::clamp(std::lround(sample * 32768.0), -32768L, 32767L);
    put_u16(out, static_cast<std::uint16_t>(static_cast<std::int16_t>(value)));
  }
  write_bytes(path, out);
}

bool ffmpeg_available() {
  static const bool available = std::system("ffmpeg -version >/dev/null 2>&1") == 0;
  return available;
}

bool run_ffmpeg(const std::string& arguments) {
  std::string command = "ffmpeg -nostdin -hide_banner -loglevel error -y " + arguments + " >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

void write_bytes(const std::filesystem::path& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
}

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<float> channel(const std::vector<float>& interleaved, int channels, int index) {
  std::vector<float> result;
  result.reserve(interleaved.size() / static_cast<std::size_t>(channels));
  for (std::size_t i = static_cast<std::size_t>(index); i < interleaved.size(); i += static_cast<std::size_t>(channels)) {
    result.push_back(interleaved[i]);
  }
  return result;
}

double tone_amplitude(const std::vector<float>& signal, int sample_rate, double frequency) {
  const std::size_t n = signal.size();
  if (n < 2) return 0;
  double re = 0, im = 0, window_sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double window = 0.5 - 0.5 * std::cos(2.0 * M_PI * static_cast<double>(i) / static_cast<double>(n - 1));
    double phase = 2.0 * M_PI * frequency * static_cast<double>(i) / sample_rate;
    re += window * signal[i] * std::cos(phase);
    im += window * signal[i] * std::sin(phase);
    window_sum += window;
  }
  return 2.0 * std::hypot(re, im) / window_sum;
}

double max_abs_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
  return worst;
}

double snr_db(const std::vector<float>& reference, const std::vector<float>& test, std::size_t margin) {
  const std::size_t n = std::min(reference.size(), test.size());
  double signal = 0, noise = 0;
  for (std::size_t i = margin; i + margin < n; ++i) {
    signal += double(reference[i]) * reference[i];
    double error = double(reference[i]) - test[i];
    noise += error * error;
  }
  return 10.0 * std::log10(signal / std::max(noise, 1e-30));
}

}  // namespace ferry::audio::testing
