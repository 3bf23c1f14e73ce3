#pragma once
// The transformer pieces ACE-Step's networks are made of (the Qwen3 text
// encoder, the condition encoder and the DiT), as plain structs over weight
// tensors with forward passes written against ATen. Each mirrors one module
// of `modeling_acestep_v15_turbo.py` or of transformers' Qwen3, so checkpoint
// names map one to one. Attention is bidirectional unless a layer is causal
// (the text encoder); sliding layers see a band |i - j| <= window.

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

#include "agent/models/acestep/acestep_weights.hpp"
#include "agent/models/acestep/dit_config.hpp"

namespace ferry::acestep {

/// nn.Linear, with or without bias.
struct LinearLayer {
  at::Tensor weight, bias;
  void load(WeightTable& w, const std::string& prefix, std::int64_t in, std::int64_t out, bool with_bias);
  at::Tensor forward(const at::Tensor& x) const;
};

/// Qwen3RMSNorm over the last dimension: normalised in float32, then scaled
/// in the input's dtype.
struct RmsNorm {
  at::Tensor weight;
  double eps = 1e-6;
  void load(WeightTable& w, const std::string& prefix, std::int64_t dim, double eps_);
  at::Tensor forward(const at::Tensor& x) const;
};

/// Rotary position embedding for positions 0..S-1 (Qwen3RotaryEmbedding:
/// frequencies θ^(-2i/d) in float32, cos/sin of [freqs, freqs]).
struct RotaryTable {
  at::Tensor cos, sin;  ///< [S, head_dim], in the activations' dtype
  static RotaryTable build(std::int64_t positions, std::int64_t head_dim, double theta, const at::TensorOptions& options);
  /// x·cos + rotate_half(x)·sin for x [B, heads, S, head_dim].
  at::Tensor apply(const at::Tensor& x) const;
};

/// Which keys every query may see: a band around its own position (sliding
/// layers; 0 = no band), none after it when causal, and the keys marked
/// valid (padding excluded).
struct KeyMask {
  std::int64_t band = 0;
  at::Tensor key_valid;  ///< [B or 1, keys] bool; undefined = every key valid
  bool causal = false;   ///< query i sees keys j <= i only
};

/// Elements of one block of attention scores (float32, ~256 MB): a
/// 10-minute song's 7 500-token full attention needs no more.
inline constexpr std::int64_t kAttentionScoreBudget = std::int64_t{1} << 26;

/// softmax(q·kᵀ·scale + mask)·v with grouped-query heads: q [B, H, Sq, D],
/// k and v [B or 1, Hkv, Sk, D] with H a multiple of Hkv (query head h reads
/// key head h / (H/Hkv)). Scores are computed a block of queries at a time so
/// that no block holds more than `score_budget` of them, and a band only
/// visits the keys it can see. Softmax runs in float32. Returns [B, H, Sq, D].
at::Tensor grouped_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const KeyMask& mask,
                             double scale, std::int64_t score_budget = kAttentionScoreBudget);

/// Keys and values of one attention layer, [B, Hkv, L, D] each.
struct KeyValues {
  at::Tensor keys, values;
};

/// The sizes of one transformer layer, as Qwen3-style configs give them.
struct LayerShape {
  std::int64_t hidden = 0;
  std::int64_t intermediate = 0;  ///< SwiGLU width
  std::int64_t heads = 0, kv_heads = 0, head_dim = 0;
  bool attention_bias = false;
  double rms_norm_eps = 1e-6;
};

/// The layer shape of the condition encoder's and the DiT's layers.
LayerShape layer_shape(const DitConfig& config);

/// AceStepAttention (and Qwen3Attention): q/k/v/o projections, per-head
/// RMSNorm on queries and keys, RoPE on self-attention only.
struct AttentionBlock {
  LinearLayer q_proj, k_proj, v_proj, o_proj;
  RmsNorm q_norm, k_norm;
  std::int64_t heads = 0, kv_heads = 0, head_dim = 0;

  void load(WeightTable& w, const std::string& prefix, const LayerShape& shape);
  /// Self-attention of x [B, S, hidden] with RoPE.
  at::Tensor self_attention(const at::Tensor& x, const RotaryTable& rope, const KeyMask& mask) const;
  /// The keys and values cross-attention reads from `memory` [B, L, hidden];
  /// they depend only on the memory, so callers compute them once.
  KeyValues project_memory(const at::Tensor& memory) const;
  /// Cross-attention of x [B, S, hidden] to precomputed keys and values.
  at::Tensor cross_attention(const at::Tensor& x, const KeyValues& memory, const KeyMask& mask) const;

 private:
  at::Tensor queries(const at::Tensor& x) const;
  at::Tensor finish(const at::Tensor& attended) const;
};

/// Qwen3MLP: down(silu(gate(x)) · up(x)).
struct SwiGluMlp {
  LinearLayer gate_proj, up_proj, down_proj;
  void load(WeightTable& w, const std::string& prefix, std::int64_t hidden, std::int64_t inner);
  at::Tensor forward(const at::Tensor& x) const;
};

/// AceStepEncoderLayer (and Qwen3DecoderLayer): pre-norm self-attention and
/// MLP, plain residuals.
struct EncoderLayer {
  RmsNorm input_layernorm, post_attention_layernorm;
  AttentionBlock self_attn;
  SwiGluMlp mlp;
  std::int64_t band = 0;  ///< sliding window of this layer, 0 for full attention
  bool causal = false;    ///< each position sees only itself and earlier ones

  /// Loads the tensors under `prefix`; `band` and `causal` stay as they are.
  void load(WeightTable& w, const std::string& prefix, const LayerShape& shape);
  /// Layer `index` of the condition encoder: its band from the config.
  void load(WeightTable& w, const std::string& prefix, const DitConfig& config, std::int64_t index);
  /// x [B, S, hidden]; `key_valid` [B, S] bool or undefined.
  at::Tensor forward(const at::Tensor& x, const RotaryTable& rope, const at::Tensor& key_valid) const;
};

}  // namespace ferry::acestep
