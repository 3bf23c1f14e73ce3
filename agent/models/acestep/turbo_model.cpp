#include "agent/models/acestep/turbo_model.hpp"

#include <algorithm>
#include <system_error>

#include <ATen/ATen.h>
#include <fmt/format.h>

namespace ferry::acestep {
namespace {

std::string shape_text(at::IntArrayRef shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

Status check_silence_latent(const at::Tensor& silence_latent, std::int64_t frames, std::string_view use) {
  if (!silence_latent.defined() || silence_latent.dim() != 3 || silence_latent.size(0) != 1) {
    return fail(ErrorCode::invalid_argument, "the silence latent must be [1, frames, channels]", "silence_latent");
  }
  if (frames < 1 || frames > silence_latent.size(1)) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("{} needs {} latent frames; the silence latent has {} (1 to {} are possible)", use, frames,
                            silence_latent.size(1), silence_latent.size(1)),
                "frames");
  }
  return {};
}

}  // namespace

Result<TurboModel> build_turbo_model(const DitConfig& config, WeightTable& weights) {
  auto encoder = ConditionEncoder::create(config, weights);
  if (!encoder) return fail(encoder.error());
  auto dit = AceStepDit::create(config, weights);
  if (!dit) return fail(dit.error());
  // The 5 Hz language-model path and the CFG embedding of base/SFT models.
  weights.ignore_prefix("tokenizer.");
  weights.ignore_prefix("detokenizer.");
  weights.ignore_prefix("null_condition_emb");
  if (auto ok = weights.finish(); !ok) return fail(ok.error());
  return TurboModel{config, std::move(*encoder), std::move(*dit), at::Tensor()};
}

Result<at::Tensor> load_silence_latent(const std::filesystem::path& file, std::int64_t channels,
                                       const models::LoadOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return fail(ErrorCode::not_found, fmt::format("silence latent '{}' does not exist", file.string()), file.string());
  }
  auto tensor = models::load_tensor(file, options);
  if (!tensor) {
    Error error = tensor.error();
    error.message = fmt::format("{}: {}", file.string(), error.message);
    return fail(std::move(error));
  }
  if (tensor->dim() != 3 || tensor->size(0) != 1 || tensor->size(1) != channels || tensor->size(2) < 1) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("{} holds a tensor of shape {}, expected [1, {}, frames]", file.string(),
                            shape_text(tensor->sizes()), channels),
                file.string());
  }
  return tensor->transpose(1, 2).contiguous();
}

Result<TurboModel> load_turbo_model(const std::filesystem::path& folder, const models::LoadOptions& options) {
  if (auto ok = check_network_dtype(options.dtype, "ACE-Step DiT"); !ok) return fail(ok.error());
  auto loaded = load_model_folder(folder, kTurboWeightsFile, options);
  if (!loaded) return fail(loaded.error());
  auto config = read_dit_config(loaded->config);
  if (!config) return fail(config.error());
  WeightTable table(loaded->weights, loaded->weights_file.string());
  auto model = build_turbo_model(*config, table);
  if (!model) return fail(model.error());
  auto silence = load_silence_latent(folder / kSilenceLatentFile, config->audio_acoustic_hidden_dim, options);
  if (!silence) return fail(silence.error());
  model->silence_latent = std::move(*silence);
  return model;
}

Result<at::Tensor> text_to_music_context(const at::Tensor& silence_latent, std::int64_t frames) {
  if (auto ok = check_silence_latent(silence_latent, frames, "the song"); !ok) return fail(ok.error());
  const at::Tensor source = silence_latent.narrow(1, 0, frames);
  // The chunk mask: 1 everywhere means "generate every frame".
  return at::cat({source, at::ones_like(source)}, -1);
}

Result<at::Tensor> silence_timbre_reference(const at::Tensor& silence_latent, std::int64_t frames) {
  if (frames < 1) return fail(ErrorCode::invalid_argument, "the timbre reference needs at least one frame", "frames");
  // A Python slice: a shorter silence latent gives all it has.
  const std::int64_t available = silence_latent.defined() && silence_latent.dim() == 3 ? silence_latent.size(1) : 0;
  if (auto ok = check_silence_latent(silence_latent, std::min(frames, available), "the timbre reference"); !ok) {
    return fail(ok.error());
  }
  return silence_latent.narrow(1, 0, std::min(frames, available));
}

}  // namespace ferry::acestep
