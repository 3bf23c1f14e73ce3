#pragma once
// The text encoder of ACE-Step 1.5: Qwen3-Embedding-0.6B (a Qwen3 decoder)
// used as an encoder. Causal self-attention, and the whole last hidden state
// is the output (no pooling). Lyrics only go through its embedding table.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "agent/models/acestep/acestep_weights.hpp"
#include "agent/models/checkpoint.hpp"
#include "common/error.hpp"

namespace ferry::acestep {

/// The shape of a Qwen3 model, from its `config.json` (transformers' names).
struct Qwen3Config {
  std::int64_t vocab_size = 151669;
  std::int64_t hidden_size = 1024;
  std::int64_t intermediate_size = 3072;
  std::int64_t num_hidden_layers = 28;
  std::int64_t num_attention_heads = 16;
  std::int64_t num_key_value_heads = 8;
  std::int64_t head_dim = 128;
  double rope_theta = 1000000.0;
  double rms_norm_eps = 1e-6;
};

/// Reads a Qwen3 config; checks that the sizes are positive and that the
/// query heads split evenly into key/value groups.
Result<Qwen3Config> parse_qwen3_config(const ModelConfig& config);

/// The file of a Qwen3 checkpoint folder holding the weights.
inline constexpr const char* kQwen3WeightsFile = "model.safetensors";

/// A loaded Qwen3 encoder, ready for inference on the device and dtype of its
/// weights. Not thread-safe; one per worker.
class Qwen3Encoder {
 public:
  /// Loads a checkpoint folder (`config.json` + `model.safetensors`, tensor
  /// names of transformers' Qwen3Model, optionally under `model.`) to the
  /// device and dtype of `options` (float32 on CPU, bfloat16 on GPUs; float16
  /// is refused).
  static Result<std::unique_ptr<Qwen3Encoder>> load(const std::filesystem::path& folder,
                                                     const models::LoadOptions& options = {});
  /// Builds from parsed config and weights (already on the target device and
  /// dtype). Every tensor must be used and shaped as the config says.
  static Result<std::unique_ptr<Qwen3Encoder>> create(const Qwen3Config& config, const models::StateDict& weights,
                                                      const std::string& source);
  /// Builds with tensors from `table` (e.g. synthesised random weights for a
  /// full-size smoke test); `table.finish()` is checked.
  static Result<std::unique_ptr<Qwen3Encoder>> create(const Qwen3Config& config, WeightTable& table);
  ~Qwen3Encoder();

  const Qwen3Config& config() const { return config_; }
  c10::Device device() const { return device_; }
  c10::ScalarType dtype() const { return dtype_; }

  /// The last hidden state [B, L, hidden] (model dtype, model device) of token
  /// ids [B, L] (any integer type and device). Attention is causal and no
  /// mask is taken: right-padded batches leave the real tokens unaffected.
  Result<at::Tensor> forward(const at::Tensor& token_ids) const;
  /// The embedding lookup only [B, L, hidden] (what the lyric path uses).
  Result<at::Tensor> embed(const at::Tensor& token_ids) const;

  struct Weights;  ///< defined in qwen3_encoder.cpp

 private:
  Qwen3Encoder(Qwen3Config config, std::unique_ptr<Weights> weights);
  Status check_tokens(const at::Tensor& token_ids) const;
  at::Tensor run(const at::Tensor& token_ids) const;

  Qwen3Config config_;
  std::unique_ptr<Weights> weights_;
  c10::Device device_ = c10::Device(c10::DeviceType::CPU);
  c10::ScalarType dtype_ = c10::ScalarType::Float;
};

}  // namespace ferry::acestep
