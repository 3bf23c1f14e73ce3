#pragma once
// The cross-domain transformer of HTDemucs (demucs.transformer.
// CrossTransformerEncoder): alternating self-attention and cross-attention
// layers over the spectral tokens (frequency x time) and the waveform tokens.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "agent/models/demucs_config.hpp"
#include "agent/models/demucs_layers.hpp"

namespace ferry::models::demucs {

/// nn.MultiheadAttention (batch first, packed input projection).
struct MultiheadAttention {
  at::Tensor in_proj_weight, in_proj_bias;
  Linear out_proj;
  int heads = 8;
  void load(WeightSource& w, const std::string& prefix, std::int64_t dim, int heads_);
  /// q: (B, L, C), kv: (B, S, C) -> (B, L, C).
  at::Tensor forward(const at::Tensor& q, const at::Tensor& kv) const;
};

/// A norm that is a LayerNorm, a GroupNorm over (B, T, C) tokens, or nothing.
struct TokenNorm {
  enum class Kind { none, layer, group } kind = Kind::none;
  LayerNorm layer;
  GroupNorm group;
  void load_layer(WeightSource& w, const std::string& prefix, std::int64_t dim);
  void load_group(WeightSource& w, const std::string& prefix, int groups, std::int64_t dim);
  at::Tensor forward(const at::Tensor& x) const;
};

/// MyTransformerEncoderLayer (self-attention) or CrossTransformerEncoderLayer.
struct TransformerLayer {
  bool cross = false;
  bool norm_first = true;
  bool gelu = true;
  MultiheadAttention attention;
  Linear linear1, linear2;
  TokenNorm norm1, norm2, norm3, norm_out;
  at::Tensor gamma_1, gamma_2;  ///< LayerScale; undefined when disabled
  void load(WeightSource& w, const std::string& prefix, std::int64_t dim, const TransformerConfig& config, bool cross_);
  /// Self-attention when `other` is undefined, else cross-attention to it.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& other) const;
};

/// demucs.transformer.CrossTransformerEncoder with sine position embeddings.
struct CrossTransformer {
  TransformerConfig config;
  TokenNorm norm_in, norm_in_t;
  std::vector<TransformerLayer> layers, layers_t;
  void load(WeightSource& w, const std::string& prefix, std::int64_t dim, const TransformerConfig& config_);
  /// x: (B, C, F, T1) spectral, xt: (B, C, T2) waveform; returns both, same shapes.
  std::pair<at::Tensor, at::Tensor> forward(at::Tensor x, at::Tensor xt) const;
};

}  // namespace ferry::models::demucs
