// Times ferry's native separation pipeline against PyTorch eager running
// torchaudio's HDemucs at the `hdemucs_high` size (torchaudio.models.
// hdemucs_high(sources=4), 84 M parameters) on the same seeded random
// weights and the same input, in the same run, and prints both times, their
// real-time factors, the throughput ratio native / reference (goal >= 1.2)
// and the peak resident memory of each (goal: native <= 1.0x reference).
// Both sides use the same thread count, no shifts, the same segment and
// overlap, one chunk per forward pass, and demucs' apply_model semantics
// (tests/models/reference/torchaudio_hdemucs.py is the reference side; it
// needs Debian's python3-torch and python3-torchaudio). Each side runs in
// its own child process, so its peak RSS (wait4's ru_maxrss) is its own.
// The outputs are compared too (SDR of the difference per source). The
// native side runs as the agent does, with glibc's malloc tuned for
// inference (agent/models/allocator.hpp); the reference as PyTorch runs by
// default.
//
// The input is a generated music-like stereo track at 44.1 kHz: a bass line,
// chords with harmonics, a kick and a hi-hat of filtered noise, and a little
// room noise.
//
//   separate_bench [--seconds 30] [--threads N] [--segment 10] [--overlap 0.25] [--native-only]
//
// On a machine shared with other work, run it with OMP_WAIT_POLICY=passive
// (both sides inherit it): OpenMP's spinning workers otherwise lose their
// time slices to the other processes and the figures say more about the
// neighbours than about either side.

#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include "agent/models/allocator.hpp"
#include "agent/models/checkpoint.hpp"
#include "agent/models/demucs_network.hpp"
#include "agent/models/separation.hpp"
#include "agent/models/torchaudio_hdemucs.hpp"
#include "bench/child_run.hpp"
#include "bench/machine.hpp"

namespace {

using ferry::bench::ChildRun;
using ferry::bench::measure_in_child;

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr int kSampleRate = 44100;
constexpr int kChannels = 2;
constexpr int kSources = 4;

struct Settings {
  int seconds = 30;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int segment_seconds = 10;
  double overlap = 0.25;
  bool native_only = false;  ///< skip the reference run (for profiling the native side)
};


// Replaces the (child) process with `argv`, its stdout going to `stdout_file`.
int exec_with_stdout(const std::vector<std::string>& argv, const fs::path& stdout_file) {
  if (!std::freopen(stdout_file.c_str(), "w", stdout)) return 126;
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  std::perror(argv[0].c_str());
  return 127;
}

// (channels, frames) float32, planar, as the reference script reads it.
std::vector<float> music_like_mix(int seconds) {
  const std::int64_t frames = static_cast<std::int64_t>(seconds) * kSampleRate;
  std::vector<float> mix(static_cast<std::size_t>(kChannels * frames));
  std::mt19937 rng(1234);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  const double chords[4][3] = {{261.63, 329.63, 392.00}, {196.00, 246.94, 293.66},
                               {220.00, 261.63, 329.63}, {174.61, 220.00, 261.63}};
  const double bass[4] = {65.41, 49.00, 55.00, 43.65};
  float hat_state = 0;
  for (std::int64_t n = 0; n < frames; ++n) {
    const double t = static_cast<double>(n) / kSampleRate;
    const int bar = static_cast<int>(std::fmod(t, 8.0) / 2.0);
    const double beat = std::fmod(t, 0.5), in_bar = std::fmod(t, 2.0);
    double chord = 0;
    for (double f : chords[bar]) {
      for (int h = 1; h <= 4; ++h) chord += std::sin(2 * M_PI * f * h * t) / (h * h);
    }
    chord *= 0.08 * std::exp(-in_bar / 1.5) * std::min(1.0, in_bar / 0.01);
    const double bass_line = 0.25 * std::sin(2 * M_PI * bass[bar] * t) * std::exp(-beat / 0.4);
    const double kick = 0.6 * std::sin(2 * M_PI * (50 + 100 * std::exp(-beat / 0.02)) * beat) * std::exp(-beat / 0.08);
    // Hi-hat: high-passed noise on the off-beats.
    const float white = noise(rng);
    const float high = white - hat_state;
    hat_state = white;
    const double hat_phase = std::fmod(t + 0.25, 0.5);
    const double hat = 0.05 * high * std::exp(-hat_phase / 0.03);
    const double room = 0.002 * noise(rng);
    const double pan = 0.5 + 0.3 * std::sin(2 * M_PI * 0.1 * t);
    mix[static_cast<std::size_t>(n)] = static_cast<float>(bass_line + kick + chord * pan + hat * 0.7 + room);
    mix[static_cast<std::size_t>(frames + n)] =
        static_cast<float>(bass_line + kick + chord * (1 - pan) + hat * 1.3 + room);
  }
  return mix;
}

bool write_floats(const fs::path& path, const std::vector<float>& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size() * sizeof(float)));
  return static_cast<bool>(out);
}

std::vector<float> read_floats(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<float> data(static_cast<std::size_t>(fs::file_size(path)) / sizeof(float));
  in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size() * sizeof(float)));
  return in ? data : std::vector<float>{};
}

// The native side, in the child: load the weights the reference saved, read
// the mix, separate with the same settings, and write the output and the time.
int run_native(const Settings& settings, const fs::path& weights, const fs::path& mix_file, const fs::path& out_file,
               const fs::path& report_file) {
  at::set_num_threads(settings.threads);
  ferry::models::tune_allocator_for_inference();  // as the agent's separate engine does
  auto state = ferry::models::load_state_dict(weights);
  if (!state) {
    std::fprintf(stderr, "native: %s\n", state.error().describe().c_str());
    return 1;
  }
  auto checkpoint = ferry::models::from_torchaudio_hdemucs(std::move(*state), {"drums", "bass", "other", "vocals"},
                                                           settings.segment_seconds);
  if (!checkpoint) {
    std::fprintf(stderr, "native: %s\n", checkpoint.error().describe().c_str());
    return 1;
  }
  auto network = ferry::models::DemucsNetwork::create(*checkpoint);
  if (!network) {
    std::fprintf(stderr, "native: %s\n", network.error().describe().c_str());
    return 1;
  }
  checkpoint->state.clear();  // the network holds the weights now
  std::vector<float> samples = read_floats(mix_file);
  const auto frames = static_cast<std::int64_t>(samples.size() / kChannels);
  at::Tensor mix = at::from_blob(samples.data(), {kChannels, frames}, at::kFloat);
  ferry::models::SeparationOptions options;
  options.overlap = settings.overlap;
  options.shifts = 0;
  options.batch_size = 1;
  const auto start = Clock::now();
  const std::clock_t start_cpu = std::clock();
  auto out = ferry::models::separate({ferry::models::BagMember{network->get(), {}, {}}}, mix, options);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu_seconds = static_cast<double>(std::clock() - start_cpu) / CLOCKS_PER_SEC;
  if (!out) {
    std::fprintf(stderr, "native: %s\n", out.error().describe().c_str());
    return 1;
  }
  const at::Tensor flat = out->contiguous();
  std::ofstream(out_file, std::ios::binary)
      .write(static_cast<const char*>(flat.data_ptr()), static_cast<std::streamsize>(flat.numel() * sizeof(float)));
  nlohmann::json report;
  report["seconds"] = seconds;
  report["cpu_seconds"] = cpu_seconds;
  report["threads"] = at::get_num_threads();
  std::ofstream(report_file) << report.dump();
  return 0;
}

// 10 log10(|ref|^2 / |ref - est|^2) for each source of (sources, channels, frames).
std::vector<double> sdr_per_source(const std::vector<float>& reference, const std::vector<float>& estimate) {
  std::vector<double> out;
  if (reference.size() != estimate.size() || reference.empty()) return out;
  const std::size_t per_source = reference.size() / kSources;
  for (int s = 0; s < kSources; ++s) {
    double signal = 0, error = 0;
    for (std::size_t i = s * per_source; i < (s + 1) * per_source; ++i) {
      signal += static_cast<double>(reference[i]) * reference[i];
      const double d = static_cast<double>(reference[i]) - estimate[i];
      error += d * d;
    }
    out.push_back(10 * std::log10(signal / std::max(error, 1e-30)));
  }
  return out;
}

// What a side reported about its separation: wall and CPU seconds.
struct SeparationTimes {
  double seconds = -1, cpu_seconds = -1;
};
SeparationTimes times_from_report(const fs::path& report) {
  std::ifstream in(report);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("seconds") || !json.contains("cpu_seconds")) return {};
  return {json["seconds"].get<double>(), json["cpu_seconds"].get<double>()};
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--native-only") {
      settings.native_only = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) flag.clear();  // a value is missing: usage below
    if (flag == "--seconds") settings.seconds = std::clamp(std::atoi(argv[i + 1]), 5, 600);
    else if (flag == "--threads") settings.threads = std::clamp(std::atoi(argv[i + 1]), 1, 256);
    else if (flag == "--segment") settings.segment_seconds = std::clamp(std::atoi(argv[i + 1]), 1, 60);
    else if (flag == "--overlap") settings.overlap = std::clamp(std::atof(argv[i + 1]), 0.0, 0.9);
    else {
      std::fprintf(stderr, "usage: %s [--seconds 30] [--threads N] [--segment 10] [--overlap 0.25] [--native-only]\n",
                   argv[0]);
      return 2;
    }
  }

  auto pattern = (fs::temp_directory_path() / "ferry-separate-bench-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path dir = pattern;
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } cleanup{dir};

  const fs::path weights = dir / "hdemucs_high.pt", mix_file = dir / "mix.f32";
  if (!write_floats(mix_file, music_like_mix(settings.seconds))) {
    std::fprintf(stderr, "cannot write the input to %s\n", mix_file.c_str());
    return 1;
  }
  const std::string python = FERRY_REFERENCE_PYTHON, script = FERRY_TORCHAUDIO_REFERENCE;
  auto made = measure_in_child(
      [&] { return exec_with_stdout({python, script, "weights", weights.string()}, dir / "weights.out"); });
  if (!made.ok) {
    std::fprintf(stderr,
                 "the reference could not make the weights; this benchmark needs %s with Debian's python3-torch "
                 "and python3-torchaudio (scripts/setup installs them)\n",
                 python.c_str());
    return 1;
  }

  std::printf("machine: %s\n", ferry::bench::machine_description().c_str());
  std::printf("model: torchaudio hdemucs_high(sources=4), seeded random weights (%.0f MB on disk)\n",
              static_cast<double>(fs::file_size(weights)) / 1e6);
  std::printf("input: %d s of generated music-like stereo at 44.1 kHz (bass, chords, kick, hi-hat)\n",
              settings.seconds);
  std::printf("settings: %d threads, segment %d s, overlap %.2f, no shifts, one chunk per forward pass\n\n",
              settings.threads, settings.segment_seconds, settings.overlap);

  const fs::path reference_out = dir / "reference.f32", reference_report = dir / "reference.json";
  ChildRun reference;
  if (!settings.native_only) {
    reference = measure_in_child([&] {
      return exec_with_stdout({python, script, "separate", weights.string(), mix_file.string(),
                               reference_out.string(), "--channels", std::to_string(kChannels), "--segment-seconds",
                               std::to_string(settings.segment_seconds), "--overlap",
                               std::to_string(settings.overlap), "--threads", std::to_string(settings.threads)},
                              reference_report);
    });
    if (!reference.ok) {
      std::fprintf(stderr, "the reference side failed\n");
      return 1;
    }
  }
  const fs::path native_out = dir / "native.f32", native_report = dir / "native.json";
  auto native = measure_in_child([&] { return run_native(settings, weights, mix_file, native_out, native_report); });
  if (!native.ok) {
    std::fprintf(stderr, "the native side failed\n");
    return 1;
  }
  const SeparationTimes native_times = times_from_report(native_report);
  const double audio = settings.seconds;
  std::printf("%-34s %12s %12s %12s %12s %12s\n", "", "separate (s)", "x real time", "its CPU (s)", "process (s)",
              "peak RSS");
  const auto row = [&](const char* name, const SeparationTimes& times, const ChildRun& run) {
    std::printf("%-34s %12.2f %12.3f %12.2f %12.2f %9.0f MB\n", name, times.seconds, audio / times.seconds,
                times.cpu_seconds, run.wall_seconds, run.peak_rss_mb);
  };
  if (settings.native_only) {
    row("ferry native (LibTorch, C++)", native_times, native);
    return 0;
  }
  const SeparationTimes reference_times = times_from_report(reference_report);
  row("PyTorch eager, torchaudio HDemucs", reference_times, reference);
  row("ferry native (LibTorch, C++)", native_times, native);

  const auto sdr = sdr_per_source(read_floats(reference_out), read_floats(native_out));
  std::printf("\noutputs agree, SDR of the difference per source (drums bass other vocals):");
  for (double s : sdr) std::printf(" %.1f", s);
  std::printf(" dB%s\n", sdr.size() == kSources ? "" : " (output sizes differ)");

  // CPU time is the steadier figure on a shared machine; wall time is the goal's.
  const double speed = reference_times.seconds / native_times.seconds;
  const double cpu_speed = reference_times.cpu_seconds / native_times.cpu_seconds;
  const double memory = native.peak_rss_mb / reference.peak_rss_mb;
  std::printf("throughput native / reference: %.2fx by wall time (goal >= 1.2x: %s), %.2fx by CPU time\n", speed,
              speed >= 1.2 ? "met" : "NOT met", cpu_speed);
  std::printf("peak memory native / reference: %.2fx (goal <= 1.0x: %s)\n", memory, memory <= 1.0 ? "met" : "NOT met");
  return 0;
}
