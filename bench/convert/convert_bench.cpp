// Times ferry's convert engine (decode, resample 48 kHz -> 44.1 kHz, encode)
// against the ffmpeg tool doing the same work on the same file, in the same
// run, and prints the ratio reference_time / ferry_time (>= 1: ferry is at
// least as fast). The input is a generated 48 kHz stereo 16-bit WAV of
// music-like content (tones with vibrato and tremolo plus a little noise).
//
//   convert_bench [--seconds 180] [--reps 3]

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/engines/engine.hpp"
#include "bench/machine.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

bool run(const std::string& command) { return std::system(command.c_str()) == 0; }

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

struct Case {
  const char* label;
  ferry::config::AudioFormat format;
  const char* ffmpeg_codec_args;
  const char* extension;
};

}  // namespace

int main(int argc, char** argv) {
  int seconds = 180;
  int reps = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--reps") == 0) reps = std::max(1, std::atoi(argv[i + 1]));
  }

  auto pattern = (fs::temp_directory_path() / "ferry-convert-bench-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path dir = pattern;
  const fs::path input = dir / "input.wav";
  const std::string quiet = "ffmpeg -nostdin -hide_banner -loglevel error -y ";
  const std::string signal =
      "aevalsrc='0.3*sin(2*PI*(220+3*sin(2*PI*5*t))*t)*(0.6+0.4*sin(2*PI*0.5*t))"
      "+0.15*sin(2*PI*660*t)+0.1*sin(2*PI*1320*t)*sin(2*PI*2*t)+0.03*(random(0)-0.5)"
      "|0.3*sin(2*PI*277*t)+0.15*sin(2*PI*(440+4*sin(2*PI*6*t))*t)+0.1*sin(2*PI*3520*t)*sin(2*PI*0.25*t)"
      "+0.03*(random(1)-0.5)':s=48000:d=" +
      std::to_string(seconds);
  if (!run(quiet + "-f lavfi -i \"" + signal + "\" -c:a pcm_s16le " + input.string())) {
    std::fprintf(stderr, "could not generate the input with the ffmpeg tool\n");
    fs::remove_all(dir);
    return 1;
  }

  std::printf("machine: %s\n", ferry::bench::machine_description().c_str());
  std::printf("input: %d s of 48 kHz stereo 16-bit WAV (%.1f MB), generated; %d repetitions, medians\n", seconds,
              static_cast<double>(fs::file_size(input)) / 1e6, reps);
  std::printf("reference: the ffmpeg tool, same work (its process start included)\n\n");

  const Case cases[] = {
      {"wav 48k -> mp3 44.1k 192k", ferry::config::AudioFormat::mp3, "-c:a libmp3lame -b:a 192k", "mp3"},
      {"wav 48k -> flac 44.1k", ferry::config::AudioFormat::flac, "-c:a flac -sample_fmt s16", "flac"},
  };
  int exit_code = 0;
  for (const Case& c : cases) {
    std::vector<double> ferry_times, reference_times;
    for (int rep = 0; rep < reps; ++rep) {
      // Alternate the two so drift in machine load hits both alike.
      const fs::path ferry_dir = dir / "ferry";
      fs::remove_all(ferry_dir);
      fs::create_directories(ferry_dir);
      ferry::agent::EngineContext context;
      context.output_dir = ferry_dir;
      context.scratch_dir = dir;
      ferry::config::ConvertParams params;
      params.format = c.format;
      params.sample_rate = 44100;
      if (c.format == ferry::config::AudioFormat::mp3) params.bitrate_kbps = 192;
      auto start = Clock::now();
      auto outputs = ferry::agent::run_convert(params, {{input, "input.wav"}}, context);
      ferry_times.push_back(seconds_since(start));
      if (!outputs) {
        std::fprintf(stderr, "ferry convert failed: %s\n", outputs.error().describe().c_str());
        exit_code = 1;
        break;
      }

      const fs::path reference_output = dir / (std::string("reference.") + c.extension);
      start = Clock::now();
      if (!run(quiet + "-i " + input.string() + " -ar 44100 " + c.ffmpeg_codec_args + " " +
               reference_output.string())) {
        std::fprintf(stderr, "the ffmpeg tool failed\n");
        exit_code = 1;
        break;
      }
      reference_times.push_back(seconds_since(start));
    }
    if (exit_code != 0) break;
    double ferry_s = median(ferry_times);
    double reference_s = median(reference_times);
    std::printf("%-28s ferry %7.3f s   ffmpeg %7.3f s   ratio ffmpeg/ferry %.2f   (%.0fx real time)\n", c.label,
                ferry_s, reference_s, reference_s / ferry_s, seconds / ferry_s);
  }
  fs::remove_all(dir);
  return exit_code;
}
