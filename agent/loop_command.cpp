#include "agent/loop_command.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <utility>

#include "agent/engines/loop_job.hpp"
#include "common/log.hpp"
#include "config/job_rules.hpp"
#include "config/units.hpp"

namespace ferry::agent {

namespace {

constexpr int kExitLoopFailed = 1;
constexpr int kExitBadArguments = 2;
constexpr int kExitInterrupted = 130;

// Set by SIGINT/SIGTERM during `ferry-agent loop`; the engine polls it.
std::atomic<bool> g_loop_cancel{false};

extern "C" void request_loop_cancel(int) { g_loop_cancel.store(true); }

int bad_arguments(const std::string& message) {
  std::fprintf(stderr, "ferry-agent loop: %s\n", message.c_str());
  return kExitBadArguments;
}

Result<double> seconds_flag(const std::string& text, const char* flag) {
  auto parsed = config::parse_duration(text);
  if (!parsed)
    return fail(ErrorCode::invalid_argument, std::string(flag) + ": " + parsed.error().message);
  return static_cast<double>(parsed->count()) / 1000.0;
}

// The params and output path the flags ask for; the format comes from
// --format or else from the output's extension.
Result<std::pair<config::LoopParams, std::filesystem::path>> loop_request(const LoopFlags& flags) {
  config::LoopParams params;
  auto duration = seconds_flag(flags.duration, "--duration");
  if (!duration) return fail(duration.error());
  params.duration_s = *duration;
  std::filesystem::path output(flags.output);
  std::string extension = output.extension().string();
  if (!extension.empty()) extension.erase(0, 1);
  if (!flags.format.empty()) {
    auto format = config::audio_format_from_string(flags.format);
    if (!format) return fail(ErrorCode::invalid_argument, "--format: " + format.error().message);
    params.format = *format;
  } else if (!std::filesystem::is_directory(output)) {
    auto format = config::audio_format_from_string(extension);
    if (!format)
      return fail(ErrorCode::invalid_argument,
                  "cannot tell the format from --output '" + flags.output +
                      "'; end it in .flac, .wav or .mp3, or give --format");
    params.format = *format;
  }
  if (std::filesystem::is_directory(output)) {
    output /= loop_output_name(std::filesystem::path(flags.input).filename().string(), params.format);
  } else if (extension != config::file_extension(params.format)) {
    return fail(ErrorCode::invalid_argument,
                "--output '" + flags.output + "' does not end in ." +
                    std::string(config::file_extension(params.format)) + ", the extension of --format " +
                    std::string(config::to_string(params.format)));
  }
  if (!flags.crossfade.empty()) {
    auto crossfade = seconds_flag(flags.crossfade, "--crossfade");
    if (!crossfade) return fail(crossfade.error());
    params.crossfade_s = *crossfade;
  }
  if (!flags.fade.empty()) {
    auto fade = seconds_flag(flags.fade, "--fade");
    if (!fade) return fail(fade.error());
    params.fade_in_s = *fade;
    params.fade_out_s = *fade;
  }
  if (!flags.fade_in.empty()) {
    auto fade = seconds_flag(flags.fade_in, "--fade-in");
    if (!fade) return fail(fade.error());
    params.fade_in_s = *fade;
  }
  if (!flags.fade_out.empty()) {
    auto fade = seconds_flag(flags.fade_out, "--fade-out");
    if (!fade) return fail(fade.error());
    params.fade_out_s = *fade;
  }
  if (flags.sample_rate > 0) params.sample_rate = flags.sample_rate;
  if (flags.bitrate_kbps > 0) params.bitrate_kbps = flags.bitrate_kbps;
  constexpr config::rules::LoopFieldNames kFlagNames{
      .duration = "--duration",
      .format = "--format",
      .crossfade = "--crossfade",
      .fade_in = "--fade-in",
      .fade_out = "--fade-out",
      .sample_rate = "--sample-rate",
      .bitrate = "--bitrate",
  };
  if (auto problem = config::rules::find_loop_problem(params, kFlagNames))
    return fail(ErrorCode::invalid_argument,
                std::string(config::rules::field_name(problem->field, kFlagNames)) + ": " + problem->message);
  return std::pair{params, output};
}

}  // namespace

int run_loop_command(const LoopFlags& flags) {
  init_logging("ferry-agent");
  auto request = loop_request(flags);
  if (!request) return bad_arguments(request.error().message);
  const auto& [params, output] = *request;
  if (!std::filesystem::is_regular_file(flags.input))
    return bad_arguments("--input '" + flags.input + "' is not a file");

  std::signal(SIGINT, request_loop_cancel);
  std::signal(SIGTERM, request_loop_cancel);
  const bool live = terminal_allows_decoration(2);
  EngineContext context;
  context.output_dir = output.parent_path().empty() ? std::filesystem::path(".") : output.parent_path();
  context.scratch_dir = context.output_dir;
  context.cancel = &g_loop_cancel;
  int last_percent = -1;
  context.report = [&](const Progress& progress) {
    if (progress.stage == "analyse") {
      std::fprintf(stderr, "analysing %s...\n", flags.input.c_str());
      return;
    }
    if (progress.total <= 0) return;
    const int percent = static_cast<int>(100.0 * progress.done / progress.total);
    // On a terminal the line is redrawn; elsewhere one line every 10 %.
    if (live ? percent == last_percent : percent / 10 == last_percent / 10) return;
    last_percent = percent;
    auto whole_seconds = [](double seconds) {
      return config::format_duration(std::chrono::seconds(std::llround(seconds)));
    };
    std::fprintf(stderr, "%sloop: %s of %s written (%d%%)%s", live ? "\r" : "", whole_seconds(progress.done).c_str(),
                 whole_seconds(progress.total).c_str(), percent, live ? "" : "\n");
  };
  const LocalInput input{flags.input, std::filesystem::path(flags.input).filename().string()};
  auto summary = render_loop_file(params, input, output, context);
  if (live) std::fprintf(stderr, "\n");
  if (!summary) {
    if (summary.error().code == ErrorCode::cancelled) {
      std::fprintf(stderr, "ferry-agent loop: interrupted; nothing was written to %s\n", output.c_str());
      return kExitInterrupted;
    }
    std::fprintf(stderr, "ferry-agent loop: %s\n", summary.error().message.c_str());
    return summary.error().code == ErrorCode::invalid_argument ? kExitBadArguments : kExitLoopFailed;
  }
  if (summary->fallback)
    std::fprintf(stderr, "no seamless loop point found (%s); the whole track is crossfaded end to start instead\n",
                 summary->fallback_reason.c_str());
  auto result = summary->to_json();
  result["output"] = output.string();
  std::printf("%s\n", result.dump(2).c_str());
  return 0;
}

CLI::App* add_loop_command(CLI::App& app, LoopFlags& flags) {
  auto* command = app.add_subcommand(
      "loop", "Stretch a track into a seamless loop of an exact length (up to 10h); prints the loop points as JSON");
  command->add_option("--input", flags.input, "The track to loop (any audio or video file)")->required();
  command->add_option("--duration", flags.duration, "Length of the output, e.g. 2h or 90m (at most 10h)")->required();
  command
      ->add_option("--output", flags.output, "Output file (.flac, .wav or .mp3), or a folder for <input>_loop.<ext>")
      ->required();
  command->add_option("--format", flags.format, "flac, wav, wav-f32 or mp3 (default: from --output)");
  command->add_option("--crossfade", flags.crossfade,
                      "Crossfade at each seam, e.g. 5s (default: chosen by the analysis)");
  command->add_option("--fade", flags.fade, "Fade in and out of the whole output, e.g. 10s");
  command->add_option("--fade-in", flags.fade_in, "Fade-in of the output (default 0)");
  command->add_option("--fade-out", flags.fade_out, "Fade-out of the output (default 5s, at most 10%)");
  command->add_option("--sample-rate", flags.sample_rate, "Output rate in Hz (default: the input's)");
  command->add_option("--bitrate", flags.bitrate_kbps, "MP3 bitrate in kbps");
  return command;
}

}  // namespace ferry::agent
