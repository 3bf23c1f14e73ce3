#include "agent/generation_cli.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "agent/engines/compute.hpp"
#include "agent/engines/generate_job.hpp"
#include "agent/models/registry.hpp"
#include "common/files.hpp"
#include "common/log.hpp"
#include "config/generate_rules.hpp"
#include "config/units.hpp"

namespace ferry::agent::cli {
namespace {

namespace fs = std::filesystem;

constexpr int kExitFailed = 1;
constexpr int kExitBadArguments = 2;
constexpr int kExitInterrupted = 130;

std::atomic<bool> g_generate_cancel{false};
extern "C" void request_generate_cancel(int) { g_generate_cancel.store(true); }

// The flags' spellings, so that shared rules name what the user typed.
constexpr config::rules::GenerateFieldNames kFlagNames{
    .caption = "--caption",
    .lyrics = "--lyrics",
    .instrumental = "--instrumental",
    .language = "--language",
    .duration = "--duration",
    .bpm = "--bpm",
    .key = "--key",
    .time_signature = "--time-signature",
    .batch = "--batch",
    .shift = "--shift",
    .sampler = "--sampler",
    .format = "--output",
    .bitrate = "--bitrate",
    .name = "--output",
    .infer_steps = "",
    .guidance_scale = "",
};

int report_error(const Error& error) {
  std::fprintf(stderr, "ferry-agent generate: %s\n", error.describe().c_str());
  return error.code == ErrorCode::invalid_argument ? kExitBadArguments : kExitFailed;
}

int bad_argument(const std::string& message) {
  return report_error(Error{ErrorCode::invalid_argument, message, {}});
}

// `--models DIR` may name the checkpoint folder itself or a models folder
// holding it (as `ferry-agent models fetch` lays it out).
fs::path checkpoint_folder(const std::string& flag) {
  const fs::path models = models::resolve_models_dir(flag.empty() ? std::nullopt : std::optional<fs::path>(flag));
  if (fs::is_directory(models / "acestep-v15-turbo")) return models;
  return models / models::kAceStepFolder;
}

}  // namespace

GenerationCommand::GenerationCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "generate", "Make a song from a description with ACE-Step 1.5 turbo (the server's engine, one shot); prints the "
                  "outputs and the seed as JSON");
  auto* c = command_;
  c->add_option("--models", flags_.models_dir,
                "The ACE-Step checkpoint folder, or a models folder holding ace-step-1.5/ (default: $FERRY_MODELS_DIR)");
  c->add_option("--caption", flags_.caption, "What the music sounds like")->required();
  c->add_option("--lyrics", flags_.lyrics_file, "A text file of lyrics with [Verse 1]-style tags");
  c->add_flag("--instrumental", flags_.instrumental, "No vocals");
  c->add_option("--duration", flags_.duration, "Length of the song, 10s to 10m (e.g. 3m)")->required();
  c->add_option("--seed", flags_.seed, "Noise seed (default: random, printed)");
  c->add_option("--bpm", flags_.bpm, "Tempo, 30 to 300");
  c->add_option("--key", flags_.key, "Key, e.g. \"F# minor\"");
  c->add_option("--time-signature", flags_.time_signature, "Beats per bar: 2, 3, 4 or 6");
  c->add_option("--language", flags_.language, "Language of the lyrics, e.g. en (default: unknown)");
  c->add_option("--batch", flags_.batch, "Songs to make, 1 to 8, from seeds seed, seed+1, ...")->capture_default_str();
  c->add_option("--shift", flags_.shift, "Turbo schedule shift: 1, 2 or 3")->capture_default_str();
  c->add_option("--sampler", flags_.sampler, "ode (Euler) or sde (stochastic)")->capture_default_str();
  c->add_option("--bitrate", flags_.bitrate_kbps, "MP3 bitrate in kbps");
  c->add_option("--device", flags_.device, "auto, cpu or cuda")->capture_default_str();
  c->add_option("--output", flags_.output,
                "The song's file: .wav, .flac or .mp3 (a batch writes NAME-1.ext, NAME-2.ext, ...)")
      ->required();
}

std::optional<int> GenerationCommand::run() const {
  if (!command_->parsed()) return std::nullopt;
  return generate();
}

int GenerationCommand::generate() const {
  init_logging("ferry-agent");
  config::GenerateParams params;
  params.caption = flags_.caption;
  params.instrumental = flags_.instrumental;
  params.language = flags_.language;
  auto duration = config::parse_duration(flags_.duration);
  if (!duration) return bad_argument("--duration: " + duration.error().message);
  params.duration_s = static_cast<double>(duration->count()) / 1000.0;
  if (flags_.seed) params.seed = *flags_.seed;
  params.bpm = flags_.bpm;
  params.key = flags_.key;
  params.time_signature = flags_.time_signature;
  params.batch = flags_.batch;
  params.shift = flags_.shift;
  params.sampler = flags_.sampler;
  params.bitrate_kbps = flags_.bitrate_kbps;

  const fs::path output(flags_.output);
  auto format = config::audio_format_from_string(output.extension().string().substr(
      output.extension().empty() ? 0 : 1));
  if (!format) return bad_argument("--output '" + flags_.output + "' must end in .wav, .flac or .mp3");
  params.format = *format;
  params.name = output.stem().string();
  if (!flags_.lyrics_file.empty()) {
    auto lyrics = read_file(flags_.lyrics_file);
    if (!lyrics)
      return report_error(Error{lyrics.error().code,
                                "cannot read --lyrics '" + flags_.lyrics_file + "': " + lyrics.error().message, {}});
    params.lyrics = std::move(*lyrics);
  }
  if (auto problem = config::rules::find_generate_problem(params, kFlagNames)) {
    return bad_argument(std::string(config::rules::field_name(problem->field, kFlagNames)) + ": " + problem->message);
  }

  const fs::path folder = output.parent_path().empty() ? fs::path(".") : output.parent_path();
  std::error_code error;
  fs::create_directories(folder, error);
  if (error) return report_error(Error{ErrorCode::io_error, "cannot create the folder of --output '" + folder.string() + "'", {}});

  configure_compute();
  std::signal(SIGINT, request_generate_cancel);
  std::signal(SIGTERM, request_generate_cancel);
  const bool live = terminal_allows_decoration(2);
  EngineContext context;
  context.output_dir = folder;
  context.scratch_dir = folder;
  context.cancel = &g_generate_cancel;
  context.report = [&](const Progress& progress) {
    if (progress.total <= 0) return;
    std::fprintf(stderr, "%sgenerate: %s %.0f of %.0f%s", live ? "\r\033[K" : "", progress.stage.c_str(),
                 progress.done, progress.total, live ? "" : "\n");
  };
  GenerateOptions options;
  options.params = params;
  options.checkpoint_dir = checkpoint_folder(flags_.models_dir);
  options.device = flags_.device;
  auto outputs = run_generate(options, context);
  if (live) std::fprintf(stderr, "\n");
  if (!outputs) {
    if (outputs.error().code == ErrorCode::cancelled) {
      std::fprintf(stderr, "ferry-agent generate: interrupted; no song was left in %s\n", folder.c_str());
      return kExitInterrupted;
    }
    return report_error(outputs.error());
  }
  nlohmann::json result = context.result;
  result["outputs"] = nlohmann::json::array();
  for (const auto& file : *outputs) result["outputs"].push_back(file.path.string());
  std::printf("%s\n", result.dump(2).c_str());
  return 0;
}

}  // namespace ferry::agent::cli
