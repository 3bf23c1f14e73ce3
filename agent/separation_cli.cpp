#include "agent/separation_cli.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "agent/engines/compute.hpp"
#include "agent/engines/separate_job.hpp"
#include "agent/models/model_commands.hpp"
#include "agent/models/registry.hpp"
#include "common/http_client.hpp"
#include "common/log.hpp"

namespace ferry::agent::cli {

namespace {

constexpr int kExitFailed = 1;
constexpr int kExitBadArguments = 2;
constexpr int kExitInterrupted = 130;

std::atomic<bool> g_separate_cancel{false};
extern "C" void request_separate_cancel(int) { g_separate_cancel.store(true); }

int report_error(const char* command, const Error& error) {
  std::fprintf(stderr, "ferry-agent %s: %s\n", command, error.describe().c_str());
  return error.code == ErrorCode::invalid_argument ? kExitBadArguments : kExitFailed;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::string item;
  for (char c : text + ",") {
    if (c == ',' || c == ' ') {
      if (!item.empty()) items.push_back(item);
      item.clear();
    } else {
      item += c;
    }
  }
  return items;
}

std::optional<std::filesystem::path> path_or_none(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return std::filesystem::path(text);
}

}  // namespace

SeparationCommands::SeparationCommands(CLI::App& app) {
  separate_command_ = app.add_subcommand(
      "separate", "Split a track into stems with a Demucs model (the server's engine, one shot); prints the outputs as JSON");
  auto* command = separate_command_;
  command->add_option("--input", flags_.input, "The track (any audio or video file)")->required();
  command->add_option("--output", flags_.output, "Folder for <input>_<stem>.<ext>")->required();
  command->add_option("--model", flags_.model, "A registry model, e.g. htdemucs or htdemucs_ft (see `models list`)");
  command->add_option("--checkpoint", flags_.checkpoint, "One checkpoint file (.th, .safetensors, torchaudio .pt)");
  command->add_option("--bag", flags_.bag, "A bag YAML (models, weights, segment) with its .th files beside it");
  command->add_option("--stems", flags_.stems, "Comma-separated stems, e.g. vocals,instrumental (default: all)");
  command->add_option("--format", flags_.format, "wav, wav-f32, flac or mp3")->capture_default_str();
  command->add_option("--overlap", flags_.overlap, "Overlap of the chunks, 0 to 0.99")->capture_default_str();
  command->add_option("--shifts", flags_.shifts, "Random shifts averaged (0: none)")->capture_default_str();
  command->add_option("--device", flags_.device, "auto, cpu or cuda")->capture_default_str();
  command->add_flag("--mono", flags_.mono, "Write mono stems");
  command->add_option("--bitrate", flags_.bitrate_kbps, "MP3 bitrate in kbps");
  command->add_option("--seed", flags_.seed, "Seed of the random shifts");
  command->add_option("--batch", flags_.batch, "Chunks per forward pass (default 1 on CPU, 4 on CUDA)");
  command->add_option("--models", flags_.models_dir, "Models folder for --model (default: $FERRY_MODELS_DIR)");

  models_command_ = app.add_subcommand("models", "List or download the separation models");
  models_command_->require_subcommand(1);
  models_command_->add_option("--models", models_dir_, "Models folder (default: $FERRY_MODELS_DIR)");
  list_command_ = models_command_->add_subcommand("list", "Show each model, its files, whether they are verified, its licence");
  fetch_command_ = models_command_->add_subcommand("fetch", "Download a model (resumable, verified by sha256)");
  fetch_command_->add_option("name", fetch_name_, "The model, e.g. htdemucs_ft")->required();
}

std::optional<int> SeparationCommands::run() const {
  if (separate_command_->parsed()) return separate();
  if (list_command_->parsed()) return list();
  if (fetch_command_->parsed()) return fetch();
  return std::nullopt;
}

int SeparationCommands::separate() const {
  init_logging("ferry-agent");
  SeparateOptions options;
  options.model = flags_.model;
  options.checkpoint = path_or_none(flags_.checkpoint);
  options.bag = path_or_none(flags_.bag);
  options.models_dir = models::resolve_models_dir(path_or_none(flags_.models_dir));
  options.stems = split_list(flags_.stems);
  auto format = config::audio_format_from_string(flags_.format);
  if (!format) return report_error("separate", Error{ErrorCode::invalid_argument, "--format: " + format.error().message, {}});
  options.format = *format;
  options.overlap = flags_.overlap;
  options.shifts = flags_.shifts;
  options.device = flags_.device;
  options.mono = flags_.mono;
  if (flags_.bitrate_kbps > 0) options.bitrate_kbps = flags_.bitrate_kbps;
  options.seed = flags_.seed;
  if (flags_.batch > 0) options.batch = flags_.batch;
  if (auto valid = validate_separate_options(options); !valid) return report_error("separate", valid.error());
  if (!std::filesystem::is_regular_file(flags_.input)) {
    return report_error("separate", Error{ErrorCode::invalid_argument, "--input '" + flags_.input + "' is not a file", {}});
  }
  std::error_code error;
  std::filesystem::create_directories(flags_.output, error);
  if (error) {
    return report_error("separate", Error{ErrorCode::io_error, "cannot create --output '" + flags_.output + "'", {}});
  }

  configure_compute();
  std::signal(SIGINT, request_separate_cancel);
  std::signal(SIGTERM, request_separate_cancel);
  const bool live = terminal_allows_decoration(2);
  EngineContext context;
  context.output_dir = flags_.output;
  context.scratch_dir = flags_.output;
  context.cancel = &g_separate_cancel;
  int last_percent = -1;
  context.report = [&](const Progress& progress) {
    if (progress.total <= 0) return;
    const int percent = static_cast<int>(100.0 * progress.done / progress.total);
    if (live ? percent == last_percent : percent / 10 == last_percent / 10) return;
    last_percent = percent;
    std::fprintf(stderr, "%sseparate: %d%% (%.0f of %.0f chunks)%s", live ? "\r" : "", percent, progress.done,
                 progress.total, live ? "" : "\n");
  };
  const LocalInput input{flags_.input, std::filesystem::path(flags_.input).filename().string()};
  auto outputs = run_separate(options, {input}, context);
  if (live) std::fprintf(stderr, "\n");
  if (!outputs) {
    if (outputs.error().code == ErrorCode::cancelled) {
      std::fprintf(stderr, "ferry-agent separate: interrupted; no stem was left in %s\n", flags_.output.c_str());
      return kExitInterrupted;
    }
    return report_error("separate", outputs.error());
  }
  nlohmann::json result = {{"outputs", nlohmann::json::array()}};
  for (const auto& output : *outputs) result["outputs"].push_back(output.path.string());
  std::printf("%s\n", result.dump(2).c_str());
  return 0;
}

int SeparationCommands::list() const {
  auto listed = models::list_models(models::resolve_models_dir(path_or_none(models_dir_)), std::cout);
  if (!listed) return report_error("models list", listed.error());
  return 0;
}

int SeparationCommands::fetch() const {
  http_global_init();
  auto fetched = models::fetch_model_by_name(fetch_name_, models::resolve_models_dir(path_or_none(models_dir_)),
                                             std::cerr);
  if (!fetched) return report_error("models fetch", fetched.error());
  return 0;
}

}  // namespace ferry::agent::cli
