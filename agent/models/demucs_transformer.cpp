#include "agent/models/demucs_transformer.hpp"

#include <cmath>

#include <ATen/ATen.h>
#include <fmt/format.h>

namespace ferry::models::demucs {
namespace {

// create_sin_embedding: (T, 1, C) with cos in the first half, sin in the second.
at::Tensor sin_embedding(std::int64_t length, std::int64_t dim, double max_period, const at::TensorOptions& options) {
  const auto f32 = at::TensorOptions().dtype(at::kFloat).device(options.device());
  const std::int64_t half = dim / 2;
  at::Tensor pos = at::arange(length, f32).view({-1, 1, 1});
  at::Tensor adim = at::arange(half, f32).view({1, 1, -1}) / static_cast<double>(half - 1);
  at::Tensor phase = pos / at::pow(max_period, adim);
  return at::cat({at::cos(phase), at::sin(phase)}, -1).to(options.dtype());
}

// create_2d_sin_embedding: (1, C, F, T); half the channels encode time, half frequency.
at::Tensor sin_embedding_2d(std::int64_t dim, std::int64_t height, std::int64_t width, double max_period,
                            const at::TensorOptions& options) {
  const auto f32 = at::TensorOptions().dtype(at::kFloat).device(options.device());
  at::Tensor pe = at::zeros({dim, height, width}, f32);
  const std::int64_t half = dim / 2;
  at::Tensor div_term = at::exp(at::arange(0, half, 2, f32) * -(std::log(max_period) / static_cast<double>(half)));
  at::Tensor pos_w = at::arange(width, f32).unsqueeze(1);
  at::Tensor pos_h = at::arange(height, f32).unsqueeze(1);
  const auto quarter = div_term.size(0);
  pe.slice(0, 0, half, 2).copy_(at::sin(pos_w * div_term).t().unsqueeze(1).expand({quarter, height, width}));
  pe.slice(0, 1, half, 2).copy_(at::cos(pos_w * div_term).t().unsqueeze(1).expand({quarter, height, width}));
  pe.slice(0, half, dim, 2).copy_(at::sin(pos_h * div_term).t().unsqueeze(2).expand({quarter, height, width}));
  pe.slice(0, half + 1, dim, 2).copy_(at::cos(pos_h * div_term).t().unsqueeze(2).expand({quarter, height, width}));
  return pe.unsqueeze(0).to(options.dtype());
}

}  // namespace

void MultiheadAttention::load(WeightSource& w, const std::string& prefix, std::int64_t dim, int heads_) {
  heads = heads_;
  in_proj_weight = w.take(prefix + ".in_proj_weight", {3 * dim, dim});
  in_proj_bias = w.take(prefix + ".in_proj_bias", {3 * dim});
  out_proj.load(w, prefix + ".out_proj", dim, dim);
}

at::Tensor MultiheadAttention::forward(const at::Tensor& q, const at::Tensor& kv) const {
  const std::int64_t B = q.size(0), L = q.size(1), S = kv.size(1), C = q.size(2);
  const std::int64_t head_dim = C / heads;
  auto w = in_proj_weight.chunk(3, 0);
  auto b = in_proj_bias.chunk(3, 0);
  auto split_heads = [&](const at::Tensor& t, std::int64_t len) {
    return t.view({B, len, heads, head_dim}).transpose(1, 2);  // (B, h, len, d)
  };
  at::Tensor query = split_heads(at::linear(q, w[0], b[0]), L);
  at::Tensor key = split_heads(at::linear(kv, w[1], b[1]), S);
  at::Tensor value = split_heads(at::linear(kv, w[2], b[2]), S);
  query = query / std::sqrt(static_cast<double>(head_dim));
  at::Tensor attn = at::softmax(at::matmul(query, key.transpose(-2, -1)), -1);
  at::Tensor out = at::matmul(attn, value).transpose(1, 2).reshape({B, L, C});
  return out_proj.forward(out);
}

void TokenNorm::load_layer(WeightSource& w, const std::string& prefix, std::int64_t dim) {
  kind = Kind::layer;
  layer.load(w, prefix, dim);
}

void TokenNorm::load_group(WeightSource& w, const std::string& prefix, int groups, std::int64_t dim) {
  kind = Kind::group;
  group.load(w, prefix, groups, dim);
}

at::Tensor TokenNorm::forward(const at::Tensor& x) const {
  switch (kind) {
    case Kind::none: return x;
    case Kind::layer: return layer.forward(x);
    case Kind::group: return group.forward(x.transpose(1, 2)).transpose(1, 2);  // MyGroupNorm
  }
  return x;
}

void TransformerLayer::load(WeightSource& w, const std::string& prefix, std::int64_t dim,
                            const TransformerConfig& config, bool cross_) {
  cross = cross_;
  norm_first = config.norm_first;
  gelu = config.gelu;
  attention.load(w, prefix + (cross ? ".cross_attn" : ".self_attn"), dim, config.heads);
  const auto hidden = static_cast<std::int64_t>(static_cast<double>(dim) * config.hidden_scale);
  linear1.load(w, prefix + ".linear1", dim, hidden);
  linear2.load(w, prefix + ".linear2", hidden, dim);
  const int norms = cross ? 3 : 2;
  TokenNorm* targets[] = {&norm1, &norm2, &norm3};
  for (int i = 0; i < norms; ++i) {
    const std::string name = fmt::format("{}.norm{}", prefix, i + 1);
    if (config.group_norm) targets[i]->load_group(w, name, config.group_norm, dim);
    else targets[i]->load_layer(w, name, dim);
  }
  if (norm_first && config.norm_out) norm_out.load_group(w, prefix + ".norm_out", config.norm_out, dim);
  if (config.layer_scale) {
    gamma_1 = w.take(prefix + ".gamma_1.scale", {dim});
    gamma_2 = w.take(prefix + ".gamma_2.scale", {dim});
  }
}

at::Tensor TransformerLayer::forward(const at::Tensor& x, const at::Tensor& other) const {
  auto scaled = [](const at::Tensor& gamma, const at::Tensor& t) { return gamma.defined() ? gamma * t : t; };
  auto feed_forward = [&](const at::Tensor& t) {
    at::Tensor h = linear1.forward(t);
    return linear2.forward(gelu ? at::gelu(h) : at::relu(h));
  };
  at::Tensor y;
  if (norm_first) {
    if (cross) {
      y = x + scaled(gamma_1, attention.forward(norm1.forward(x), norm2.forward(other)));
      y = y + scaled(gamma_2, feed_forward(norm3.forward(y)));
    } else {
      at::Tensor n = norm1.forward(x);
      y = x + scaled(gamma_1, attention.forward(n, n));
      y = y + scaled(gamma_2, feed_forward(norm2.forward(y)));
    }
    return norm_out.forward(y);
  }
  y = norm1.forward(x + scaled(gamma_1, attention.forward(x, cross ? other : x)));
  return norm2.forward(y + scaled(gamma_2, feed_forward(y)));
}

void CrossTransformer::load(WeightSource& w, const std::string& prefix, std::int64_t dim,
                            const TransformerConfig& config_) {
  config = config_;
  if (config.norm_in) {
    norm_in.load_layer(w, prefix + ".norm_in", dim);
    norm_in_t.load_layer(w, prefix + ".norm_in_t", dim);
  } else if (config.norm_in_group) {
    norm_in.load_group(w, prefix + ".norm_in", config.norm_in_group, dim);
    norm_in_t.load_group(w, prefix + ".norm_in_t", config.norm_in_group, dim);
  }
  const int classic_parity = config.cross_first ? 1 : 0;
  for (int i = 0; i < config.layers; ++i) {
    const bool cross = i % 2 != classic_parity;
    layers.emplace_back().load(w, fmt::format("{}.layers.{}", prefix, i), dim, config, cross);
    layers_t.emplace_back().load(w, fmt::format("{}.layers_t.{}", prefix, i), dim, config, cross);
  }
}

std::pair<at::Tensor, at::Tensor> CrossTransformer::forward(at::Tensor x, at::Tensor xt) const {
  const std::int64_t B = x.size(0), C = x.size(1), Fr = x.size(2), T1 = x.size(3), T2 = xt.size(2);
  // Spectral tokens in (time, frequency) order: "b c fr t1 -> b (t1 fr) c".
  at::Tensor pos_2d = sin_embedding_2d(C, Fr, T1, config.max_period, x.options());
  pos_2d = pos_2d.permute({0, 3, 2, 1}).reshape({1, T1 * Fr, C});
  x = x.permute({0, 3, 2, 1}).reshape({B, T1 * Fr, C});
  x = norm_in.forward(x) + config.weight_pos_embed * pos_2d;

  at::Tensor pos = sin_embedding(T2, C, config.max_period, xt.options()).permute({1, 0, 2});
  xt = xt.permute({0, 2, 1});
  xt = norm_in_t.forward(xt) + config.weight_pos_embed * pos;

  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (!layers[i].cross) {
      x = layers[i].forward(x, {});
      xt = layers_t[i].forward(xt, {});
    } else {
      at::Tensor old_x = x;
      x = layers[i].forward(x, xt);
      xt = layers_t[i].forward(xt, old_x);
    }
  }
  x = x.view({B, T1, Fr, C}).permute({0, 3, 2, 1});
  xt = xt.permute({0, 2, 1});
  return {x, xt};
}

}  // namespace ferry::models::demucs
