#pragma once
// The generation half of ACE-Step 1.5 turbo as published in the
// `acestep-v15-turbo/` folder: config.json, model.safetensors (condition
// encoder `encoder.*` and DiT `decoder.*`) and silence_latent.pt. The 5 Hz
// language-model pieces in the same file (`tokenizer.*`, `detokenizer.*`)
// and the CFG embedding of the non-turbo models are not loaded.

#include <cstdint>
#include <filesystem>
#include <memory>

#include <ATen/core/Tensor.h>

#include "agent/models/acestep/acestep_weights.hpp"
#include "agent/models/acestep/condition_encoder.hpp"
#include "agent/models/acestep/dit.hpp"
#include "agent/models/acestep/dit_config.hpp"
#include "agent/models/checkpoint.hpp"
#include "common/error.hpp"

namespace ferry::acestep {

/// File names inside the checkpoint folder.
inline constexpr const char* kTurboWeightsFile = "model.safetensors";
inline constexpr const char* kSilenceLatentFile = "silence_latent.pt";

/// The loaded networks and the silence latent, on one device and dtype.
struct TurboModel {
  DitConfig config;
  std::unique_ptr<ConditionEncoder> condition_encoder;
  std::unique_ptr<AceStepDit> dit;
  /// [1, frames, latent channels] (stored as [1, channels, frames]); what
  /// text-to-music uses as context and, without a reference clip, as timbre.
  at::Tensor silence_latent;
};

/// Loads a checkpoint folder to the device and dtype of `options` (float32
/// on CPU, bfloat16 on GPUs; float16 is refused). Missing, extra or
/// mis-shaped tensors are errors naming the tensor and the file.
Result<TurboModel> load_turbo_model(const std::filesystem::path& folder, const models::LoadOptions& options = {});

/// Builds both networks from `weights` and checks that every tensor was used
/// (e.g. synthesised random weights for a full-size smoke test); the silence
/// latent is left undefined.
Result<TurboModel> build_turbo_model(const DitConfig& config, WeightTable& weights);

/// Reads silence_latent.pt ([1, channels, frames]) as [1, frames, channels].
Result<at::Tensor> load_silence_latent(const std::filesystem::path& file, std::int64_t channels,
                                       const models::LoadOptions& options = {});

/// Text-to-music context for `frames` latent frames: [silence latent's first
/// frames | ones] on the channel axis, [1, frames, 2 × channels]. Songs longer
/// than the silence latent are refused.
Result<at::Tensor> text_to_music_context(const at::Tensor& silence_latent, std::int64_t frames);

/// The timbre reference used without a reference clip: at most the first
/// `frames` frames of the silence latent (upstream slices
/// silence_latent[:, :timbre_fix_frame], i.e. 750), [1, frames, C].
Result<at::Tensor> silence_timbre_reference(const at::Tensor& silence_latent, std::int64_t frames);

}  // namespace ferry::acestep
