// Times ferry's loop engine writing a long FLAC loop (10 hours by default)
// against the ffmpeg tool looping the same input to the same length
// (`ffmpeg -stream_loop -1 -i in.wav -t SECONDS -c:a flac`), in the same run,
// and prints both times, their ratio ferry / ffmpeg (goal <= 1.5) and the
// peak resident memory of each (goal for ferry < 200 MB). Each side runs in
// a child process so its peak RSS is its own (wait4's ru_maxrss).
//
// The input is a generated music-like track: I-V-vi-IV triads at 120 bpm
// with a click on every beat, 44.1 kHz stereo 16-bit WAV. ferry's work
// includes the decode and the loop analysis; ffmpeg only copies and
// encodes, so the ratio is conservative. Outputs go to a temporary folder
// and are deleted after each side.
//
//   loop_bench [--hours 10] [--input-seconds 180]

#include <stdlib.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "agent/engines/loop_job.hpp"
#include "bench/child_run.hpp"
#include "bench/machine.hpp"

namespace {

using ferry::bench::ChildRun;
using ferry::bench::measure_in_child;

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;


int run_shell(const std::string& command) {
  ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
  return 127;
}

// A bar of four beats per chord at 120 bpm: each chord rings for 2 s with a
// short attack and release, plus a 1 kHz click on every half second.
std::string music_like_source(int seconds) {
  auto pick = [](const char* c, const char* g, const char* a, const char* f) {
    return std::string("if(eq(ld(0),0),") + c + ",if(eq(ld(0),1)," + g + ",if(eq(ld(0),2)," + a + "," + f + ")))";
  };
  const std::string chord = "st(0,floor(mod(t,8)/2));st(1,mod(t,2));";
  const std::string envelope = "min(1,ld(1)/0.005)*min(1,(2-ld(1))/0.02)*exp(-ld(1)/1.5)";
  const std::string notes = "0.12*(sin(2*PI*" + pick("261.63", "196.00", "220.00", "174.61") + "*t)+sin(2*PI*" +
                            pick("329.63", "246.94", "261.63", "220.00") + "*t)+sin(2*PI*" +
                            pick("392.00", "293.66", "329.63", "261.63") + "*t))";
  const std::string click = "0.4*sin(2*PI*1000*t)*exp(-mod(t,0.5)/0.008)*lt(mod(t,0.5),0.03)";
  return "aevalsrc='" + chord + notes + "*" + envelope + "+" + click + "':s=44100:d=" + std::to_string(seconds);
}

}  // namespace

int main(int argc, char** argv) {
  double hours = 10;
  int input_seconds = 180;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--hours") == 0) hours = std::clamp(std::atof(argv[i + 1]), 0.01, 10.0);
    if (std::strcmp(argv[i], "--input-seconds") == 0) input_seconds = std::clamp(std::atoi(argv[i + 1]), 5, 1200);
  }
  const double output_seconds = hours * 3600.0;

  auto pattern = (fs::temp_directory_path() / "ferry-loop-bench-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path dir = pattern;
  auto cleanup = [&] {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  };

  // Each output is written, measured and deleted before the next: room for
  // one uncompressed copy is more than enough.
  const double raw_bytes = output_seconds * 44100.0 * 2 * 2;
  struct statvfs disk{};
  if (::statvfs(dir.c_str(), &disk) == 0) {
    const double free_bytes = static_cast<double>(disk.f_bavail) * static_cast<double>(disk.f_frsize);
    if (free_bytes < raw_bytes) {
      std::fprintf(stderr, "only %.1f GB free in %s; %.1f GB needed for %.1f hours (try --hours less)\n",
                   free_bytes / 1e9, dir.c_str(), raw_bytes / 1e9, hours);
      cleanup();
      return 1;
    }
  }

  const fs::path input = dir / "input.wav";
  const std::string quiet = "ffmpeg -nostdin -hide_banner -loglevel error -y ";
  if (std::system((quiet + "-f lavfi -i \"" + music_like_source(input_seconds) + "\" -ac 2 -c:a pcm_s16le '" +
                   input.string() + "'")
                      .c_str()) != 0) {
    std::fprintf(stderr, "could not generate the input with the ffmpeg tool\n");
    cleanup();
    return 1;
  }

  std::printf("machine: %s\n", ferry::bench::machine_description().c_str());
  std::printf("input: %d s of 44.1 kHz stereo 16-bit WAV (%.1f MB), generated chords and clicks at 120 bpm\n",
              input_seconds, static_cast<double>(fs::file_size(input)) / 1e6);
  std::printf("output: %.2f hours of FLAC (compression level 5, as ffmpeg's default)\n\n", hours);

  ferry::agent::LoopSummary summary;
  const fs::path ferry_output = dir / "ferry.flac";
  const fs::path summary_file = dir / "summary.json";
  auto ferry_run = measure_in_child([&] {
    ferry::config::LoopParams params;
    params.duration_s = output_seconds;
    params.format = ferry::config::AudioFormat::flac;
    ferry::agent::EngineContext context;
    context.output_dir = dir;
    context.scratch_dir = dir;
    auto done = ferry::agent::render_loop_file(params, {input, "input.wav"}, ferry_output, context);
    if (!done) {
      std::fprintf(stderr, "ferry: %s\n", done.error().describe().c_str());
      return 1;
    }
    std::ofstream(summary_file) << done->to_json().dump();
    return 0;
  });
  std::uintmax_t ferry_bytes = 0;
  if (ferry_run.ok) {
    std::error_code ignored;
    ferry_bytes = fs::file_size(ferry_output, ignored);
    std::ifstream in(summary_file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::printf("ferry loop: %s\n", text.c_str());
  }
  fs::remove(ferry_output);

  const fs::path reference_output = dir / "ffmpeg.flac";
  char length[32];
  std::snprintf(length, sizeof length, "%.3f", output_seconds);
  auto reference_run = measure_in_child([&] {
    return run_shell(quiet + "-stream_loop -1 -i '" + input.string() + "' -t " + length + " -c:a flac '" +
                     reference_output.string() + "'");
  });
  std::error_code ignored;
  const std::uintmax_t reference_bytes = fs::file_size(reference_output, ignored);
  cleanup();

  if (!ferry_run.ok || !reference_run.ok) {
    std::fprintf(stderr, "%s failed\n", ferry_run.ok ? "ffmpeg" : "ferry");
    return 1;
  }
  std::printf("\n%-28s %10s %12s %12s\n", "", "time (s)", "peak RSS", "size");
  std::printf("%-28s %10.1f %9.1f MB %9.2f GB\n", "ferry loop (fork, in-process)", ferry_run.wall_seconds,
              ferry_run.peak_rss_mb, static_cast<double>(ferry_bytes) / 1e9);
  std::printf("%-28s %10.1f %9.1f MB %9.2f GB\n", "ffmpeg -stream_loop", reference_run.wall_seconds,
              reference_run.peak_rss_mb, static_cast<double>(reference_bytes) / 1e9);
  const double ratio = ferry_run.wall_seconds / reference_run.wall_seconds;
  std::printf("\nratio ferry / ffmpeg time: %.2f (goal <= 1.5: %s)\n", ratio, ratio <= 1.5 ? "met" : "NOT met");
  std::printf("ferry peak RSS: %.1f MB (goal < 200 MB: %s)\n", ferry_run.peak_rss_mb,
              ferry_run.peak_rss_mb < 200 ? "met" : "NOT met");
  return 0;
}
