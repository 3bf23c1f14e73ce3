#include "agent/models/acestep/transformer_blocks.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <ATen/ATen.h>

namespace ferry::acestep {
namespace {

// Queries per block: as many as the score budget allows for the keys a block
// sees. Under a band, blocks stay about as wide as the band, so the key range
// a block visits (block + 2·band) is not mostly masked out.
std::int64_t query_block(std::int64_t batch, std::int64_t heads, std::int64_t queries, std::int64_t keys,
                         std::int64_t band, std::int64_t budget) {
  const std::int64_t widest = band > 0 ? std::max<std::int64_t>(2 * band, 64) : queries;
  const std::int64_t keys_seen = band > 0 ? std::min(keys, widest + 2 * band) : keys;
  const std::int64_t affordable = budget / std::max<std::int64_t>(1, batch * heads * keys_seen);
  return std::clamp<std::int64_t>(std::min(affordable, widest), 1, std::max<std::int64_t>(queries, 1));
}

// Upstream's softmax scale, head_dim ** -0.5.
double attention_scale(std::int64_t head_dim) { return std::pow(static_cast<double>(head_dim), -0.5); }

at::Tensor rotate_half(const at::Tensor& x) {
  const std::int64_t half = x.size(-1) / 2;
  return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

}  // namespace

void LinearLayer::load(WeightTable& w, const std::string& prefix, std::int64_t in, std::int64_t out, bool with_bias) {
  weight = w.take(prefix + ".weight", {out, in});
  if (with_bias) bias = w.take(prefix + ".bias", {out});
}

at::Tensor LinearLayer::forward(const at::Tensor& x) const { return at::linear(x, weight, bias); }

void RmsNorm::load(WeightTable& w, const std::string& prefix, std::int64_t dim, double eps_) {
  weight = w.take(prefix + ".weight", {dim});
  eps = eps_;
}

at::Tensor RmsNorm::forward(const at::Tensor& x) const {
  const at::Tensor wide = x.to(at::kFloat);
  const at::Tensor normed = wide * at::rsqrt(wide.pow(2).mean({-1}, /*keepdim=*/true) + eps);
  return weight * normed.to(x.scalar_type());
}

RotaryTable RotaryTable::build(std::int64_t positions, std::int64_t head_dim, double theta,
                               const at::TensorOptions& options) {
  const auto integers = at::TensorOptions().dtype(at::kLong);
  // Same float32 arithmetic as transformers, so angles agree bit for bit.
  const at::Tensor exponents = at::arange(0, head_dim, 2, integers).to(at::kFloat) / static_cast<double>(head_dim);
  const at::Tensor inv_freq = 1.0 / at::pow(theta, exponents);
  const at::Tensor steps = at::arange(positions, integers).to(at::kFloat);
  const at::Tensor freqs = at::outer(steps, inv_freq);
  const at::Tensor angles = at::cat({freqs, freqs}, -1).to(options.device());
  return RotaryTable{angles.cos().to(options.dtype()), angles.sin().to(options.dtype())};
}

at::Tensor RotaryTable::apply(const at::Tensor& x) const { return x * cos + rotate_half(x) * sin; }

at::Tensor grouped_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const KeyMask& mask,
                             double scale, std::int64_t score_budget) {
  const std::int64_t batch = q.size(0), heads = q.size(1), queries = q.size(2), dim = q.size(3);
  const std::int64_t kv_heads = k.size(1), keys = k.size(2);
  const std::int64_t groups = heads / kv_heads;
  // Query heads that share a key head sit next to each other (transformers'
  // repeat_kv), so a view groups them without copying keys.
  const at::Tensor grouped_q = q.contiguous().view({batch, kv_heads, groups, queries, dim});
  const at::Tensor grouped_k = k.unsqueeze(2);
  const at::Tensor grouped_v = v.unsqueeze(2);
  at::Tensor out = at::empty({batch, kv_heads, groups, queries, dim}, q.options());
  const std::int64_t block = query_block(batch, heads, queries, keys, mask.band, score_budget);
  const float lowest = std::numeric_limits<float>::lowest();

  for (std::int64_t first = 0; first < queries; first += block) {
    const std::int64_t count = std::min(block, queries - first);
    // Only the keys some query of the block can see are multiplied.
    std::int64_t key_first = 0, key_end = keys;
    if (mask.band > 0) {
      key_first = std::max<std::int64_t>(0, first - mask.band);
      key_end = std::min(keys, first + count + mask.band);
    }
    if (mask.causal) key_end = std::min(key_end, first + count);
    const std::int64_t key_count = key_end - key_first;
    const at::Tensor block_k = grouped_k.narrow(3, key_first, key_count);
    const at::Tensor block_v = grouped_v.narrow(3, key_first, key_count);
    at::Tensor scores = at::matmul(grouped_q.narrow(3, first, count), block_k.transpose(-1, -2)) * scale;
    scores = scores.to(at::kFloat);

    // Visible keys: inside the band, not after the query when causal, and
    // not padding. Masked scores take the lowest float like upstream's
    // additive mask, so a row with nothing visible degrades to a uniform
    // average instead of NaN.
    at::Tensor visible;
    if (mask.band > 0 || mask.causal) {
      const auto index = at::TensorOptions().dtype(at::kLong).device(q.device());
      const at::Tensor rows = at::arange(first, first + count, index).unsqueeze(1);
      const at::Tensor cols = at::arange(key_first, key_end, index).unsqueeze(0);
      const at::Tensor distance = rows - cols;  // [count, key_count]
      if (mask.band > 0) visible = distance.abs() <= mask.band;
      if (mask.causal) visible = visible.defined() ? at::logical_and(visible, distance >= 0) : distance >= 0;
    }
    if (mask.key_valid.defined()) {
      const at::Tensor valid = mask.key_valid.narrow(1, key_first, key_count).view({-1, 1, 1, 1, key_count});
      visible = visible.defined() ? at::logical_and(visible, valid) : valid;
    }
    if (visible.defined()) scores = scores.masked_fill(at::logical_not(visible), lowest);

    const at::Tensor weights = at::softmax(scores, -1).to(v.scalar_type());
    out.narrow(3, first, count).copy_(at::matmul(weights, block_v));
  }
  return out.view({batch, heads, queries, dim});
}

LayerShape layer_shape(const DitConfig& config) {
  return LayerShape{.hidden = config.hidden_size,
                    .intermediate = config.intermediate_size,
                    .heads = config.num_attention_heads,
                    .kv_heads = config.num_key_value_heads,
                    .head_dim = config.head_dim,
                    .attention_bias = config.attention_bias,
                    .rms_norm_eps = config.rms_norm_eps};
}

void AttentionBlock::load(WeightTable& w, const std::string& prefix, const LayerShape& shape) {
  heads = shape.heads;
  kv_heads = shape.kv_heads;
  head_dim = shape.head_dim;
  const std::int64_t hidden = shape.hidden;
  const bool bias = shape.attention_bias;
  q_proj.load(w, prefix + ".q_proj", hidden, heads * head_dim, bias);
  k_proj.load(w, prefix + ".k_proj", hidden, kv_heads * head_dim, bias);
  v_proj.load(w, prefix + ".v_proj", hidden, kv_heads * head_dim, bias);
  o_proj.load(w, prefix + ".o_proj", heads * head_dim, hidden, bias);
  q_norm.load(w, prefix + ".q_norm", head_dim, shape.rms_norm_eps);
  k_norm.load(w, prefix + ".k_norm", head_dim, shape.rms_norm_eps);
}

at::Tensor AttentionBlock::queries(const at::Tensor& x) const {
  return q_norm.forward(q_proj.forward(x).view({x.size(0), x.size(1), heads, head_dim})).transpose(1, 2);
}

at::Tensor AttentionBlock::finish(const at::Tensor& attended) const {
  const at::Tensor merged = attended.transpose(1, 2).reshape({attended.size(0), attended.size(2), heads * head_dim});
  return o_proj.forward(merged);
}

KeyValues AttentionBlock::project_memory(const at::Tensor& memory) const {
  const std::int64_t batch = memory.size(0), length = memory.size(1);
  at::Tensor keys = k_norm.forward(k_proj.forward(memory).view({batch, length, kv_heads, head_dim})).transpose(1, 2);
  at::Tensor values = v_proj.forward(memory).view({batch, length, kv_heads, head_dim}).transpose(1, 2);
  return KeyValues{keys.contiguous(), values.contiguous()};
}

at::Tensor AttentionBlock::self_attention(const at::Tensor& x, const RotaryTable& rope, const KeyMask& mask) const {
  const KeyValues own = project_memory(x);
  const at::Tensor q = rope.apply(queries(x));
  const at::Tensor k = rope.apply(own.keys);
  return finish(grouped_attention(q, k, own.values, mask, attention_scale(head_dim)));
}

at::Tensor AttentionBlock::cross_attention(const at::Tensor& x, const KeyValues& memory, const KeyMask& mask) const {
  return finish(grouped_attention(queries(x), memory.keys, memory.values, mask,
                                  attention_scale(head_dim)));
}

void SwiGluMlp::load(WeightTable& w, const std::string& prefix, std::int64_t hidden, std::int64_t inner) {
  gate_proj.load(w, prefix + ".gate_proj", hidden, inner, false);
  up_proj.load(w, prefix + ".up_proj", hidden, inner, false);
  down_proj.load(w, prefix + ".down_proj", inner, hidden, false);
}

at::Tensor SwiGluMlp::forward(const at::Tensor& x) const {
  return down_proj.forward(at::silu(gate_proj.forward(x)) * up_proj.forward(x));
}

void EncoderLayer::load(WeightTable& w, const std::string& prefix, const LayerShape& shape) {
  input_layernorm.load(w, prefix + ".input_layernorm", shape.hidden, shape.rms_norm_eps);
  post_attention_layernorm.load(w, prefix + ".post_attention_layernorm", shape.hidden, shape.rms_norm_eps);
  self_attn.load(w, prefix + ".self_attn", shape);
  mlp.load(w, prefix + ".mlp", shape.hidden, shape.intermediate);
}

void EncoderLayer::load(WeightTable& w, const std::string& prefix, const DitConfig& config, std::int64_t index) {
  load(w, prefix, layer_shape(config));
  band = config.is_sliding(index) ? config.sliding_window : 0;
}

at::Tensor EncoderLayer::forward(const at::Tensor& x, const RotaryTable& rope, const at::Tensor& key_valid) const {
  const KeyMask mask{band, key_valid, causal};
  const at::Tensor attended = x + self_attn.self_attention(input_layernorm.forward(x), rope, mask);
  return attended + mlp.forward(post_attention_layernorm.forward(attended));
}

}  // namespace ferry::acestep
