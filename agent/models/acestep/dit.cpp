#include "agent/models/acestep/dit.hpp"

#include <cmath>

#include <ATen/ATen.h>
#include <fmt/format.h>

namespace ferry::acestep {
namespace {

// TimestepEmbedding's sinusoid width and time scale (t in [0, 1] -> [0, 1000]).
constexpr std::int64_t kTimestepChannels = 256;
constexpr double kTimestepScale = 1000.0;
constexpr double kTimestepMaxPeriod = 10000.0;
// Modulation rows per layer: shift/scale/gate for attention, then for the MLP.
constexpr std::int64_t kLayerModulations = 6;

std::string shape_text(at::IntArrayRef shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

// TimestepEmbedding: a cos-then-sin sinusoid of t·1000, an MLP to `temb`,
// and `time_proj` of SiLU(temb) giving the six per-layer modulations.
struct TimestepEmbedder {
  LinearLayer linear_1, linear_2, time_proj;
  std::int64_t hidden = 0;

  void load(WeightTable& w, const std::string& prefix, std::int64_t hidden_) {
    hidden = hidden_;
    linear_1.load(w, prefix + ".linear_1", kTimestepChannels, hidden, true);
    linear_2.load(w, prefix + ".linear_2", hidden, hidden, true);
    time_proj.load(w, prefix + ".time_proj", hidden, hidden * kLayerModulations, true);
  }

  // t [B] in the model's dtype -> (temb [B, hidden], modulations [B, 6, hidden]).
  std::pair<at::Tensor, at::Tensor> forward(const at::Tensor& t) const {
    const std::int64_t half = kTimestepChannels / 2;
    const auto f32 = at::TensorOptions().dtype(at::kFloat).device(t.device());
    const at::Tensor freqs = at::exp(at::arange(half, f32) * -std::log(kTimestepMaxPeriod) / static_cast<double>(half));
    // Upstream scales t in the model's dtype before widening to float32.
    const at::Tensor args = (t * kTimestepScale).to(at::kFloat).unsqueeze(1) * freqs.unsqueeze(0);
    const at::Tensor sinusoid = at::cat({args.cos(), args.sin()}, -1).to(t.scalar_type());
    const at::Tensor temb = linear_2.forward(at::silu(linear_1.forward(sinusoid)));
    const at::Tensor modulations = time_proj.forward(at::silu(temb)).view({t.size(0), kLayerModulations, hidden});
    return {temb, modulations};
  }
};

// AceStepDiTLayer: adaLN-modulated self-attention with a gated residual,
// plain cross-attention to the conditions, adaLN-modulated gated MLP.
struct DitLayer {
  RmsNorm self_attn_norm, cross_attn_norm, mlp_norm;
  AttentionBlock self_attn, cross_attn;
  SwiGluMlp mlp;
  at::Tensor scale_shift_table;  // [1, 6, hidden]
  std::int64_t band = 0;

  void load(WeightTable& w, const std::string& prefix, const DitConfig& config, std::int64_t index) {
    const std::int64_t hidden = config.hidden_size;
    self_attn_norm.load(w, prefix + ".self_attn_norm", hidden, config.rms_norm_eps);
    self_attn.load(w, prefix + ".self_attn", layer_shape(config));
    cross_attn_norm.load(w, prefix + ".cross_attn_norm", hidden, config.rms_norm_eps);
    cross_attn.load(w, prefix + ".cross_attn", layer_shape(config));
    mlp_norm.load(w, prefix + ".mlp_norm", hidden, config.rms_norm_eps);
    mlp.load(w, prefix + ".mlp", hidden, config.intermediate_size);
    scale_shift_table = w.take(prefix + ".scale_shift_table", {1, kLayerModulations, hidden});
    band = config.is_sliding(index) ? config.sliding_window : 0;
  }

  at::Tensor forward(const at::Tensor& x, const RotaryTable& rope, const at::Tensor& modulations,
                     const KeyValues& memory, const at::Tensor& memory_valid) const {
    const std::vector<at::Tensor> m = (scale_shift_table + modulations).chunk(kLayerModulations, 1);
    const at::Tensor &shift = m[0], &scale = m[1], &gate = m[2];
    const at::Tensor &mlp_shift = m[3], &mlp_scale = m[4], &mlp_gate = m[5];
    at::Tensor h = x;
    const at::Tensor attn_in = self_attn_norm.forward(h) * (1 + scale) + shift;
    h = h + self_attn.self_attention(attn_in, rope, KeyMask{band, {}}) * gate;
    h = h + cross_attn.cross_attention(cross_attn_norm.forward(h), memory, KeyMask{0, memory_valid});
    const at::Tensor mlp_in = mlp_norm.forward(h) * (1 + mlp_scale) + mlp_shift;
    return h + mlp.forward(mlp_in) * mlp_gate;
  }
};

}  // namespace

struct AceStepDit::Weights {
  at::Tensor proj_in_weight, proj_in_bias;    // Conv1d(in_channels -> hidden, k = stride = patch)
  TimestepEmbedder time_embed, time_embed_r;  // of t, and of t - r (0 at inference)
  LinearLayer condition_embedder;
  std::vector<DitLayer> layers;
  RmsNorm norm_out;
  at::Tensor scale_shift_table;                // [1, 2, hidden]: output shift and scale
  at::Tensor proj_out_weight, proj_out_bias;  // ConvTranspose1d(hidden -> latent, k = stride = patch)
};

AceStepDit::AceStepDit(DitConfig config, std::unique_ptr<Weights> weights)
    : config_(std::move(config)), weights_(std::move(weights)) {}

AceStepDit::~AceStepDit() = default;

Result<std::unique_ptr<AceStepDit>> AceStepDit::create(const DitConfig& config, WeightTable& w) {
  const std::int64_t hidden = config.hidden_size, patch = config.patch_size;
  auto loaded = std::make_unique<Weights>();
  loaded->proj_in_weight = w.take("decoder.proj_in.1.weight", {hidden, config.in_channels, patch});
  loaded->proj_in_bias = w.take("decoder.proj_in.1.bias", {hidden});
  loaded->time_embed.load(w, "decoder.time_embed", hidden);
  loaded->time_embed_r.load(w, "decoder.time_embed_r", hidden);
  loaded->condition_embedder.load(w, "decoder.condition_embedder", hidden, hidden, true);
  loaded->layers.resize(static_cast<std::size_t>(config.num_hidden_layers));
  for (std::int64_t i = 0; i < config.num_hidden_layers; ++i) {
    loaded->layers[static_cast<std::size_t>(i)].load(w, fmt::format("decoder.layers.{}", i), config, i);
  }
  loaded->norm_out.load(w, "decoder.norm_out", hidden, config.rms_norm_eps);
  loaded->scale_shift_table = w.take("decoder.scale_shift_table", {1, 2, hidden});
  loaded->proj_out_weight = w.take("decoder.proj_out.1.weight", {hidden, config.audio_acoustic_hidden_dim, patch});
  loaded->proj_out_bias = w.take("decoder.proj_out.1.bias", {config.audio_acoustic_hidden_dim});
  return std::unique_ptr<AceStepDit>(new AceStepDit(config, std::move(loaded)));
}

Status AceStepDit::check_conditions(const at::Tensor& encoder_states, const at::Tensor& encoder_mask) const {
  if (!encoder_states.defined() || encoder_states.dim() != 3 || encoder_states.size(1) < 1 ||
      encoder_states.size(2) != config_.hidden_size) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("encoder_states must be [batch, length >= 1, {}], not {}", config_.hidden_size,
                            encoder_states.defined() ? shape_text(encoder_states.sizes()) : "missing"),
                "encoder_states");
  }
  if (encoder_mask.defined() && encoder_mask.sizes() != encoder_states.sizes().slice(0, 2)) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("encoder_mask must be {} like encoder_states, not {}",
                            shape_text(encoder_states.sizes().slice(0, 2)), shape_text(encoder_mask.sizes())),
                "encoder_mask");
  }
  return {};
}

Status AceStepDit::check_latents(const at::Tensor& x_t, const at::Tensor& context, std::int64_t condition_batch) const {
  const std::int64_t latent = config_.audio_acoustic_hidden_dim;
  if (!x_t.defined() || x_t.dim() != 3 || x_t.size(0) < 1 || x_t.size(1) < 1 || x_t.size(2) != latent) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("x_t must be [batch, frames >= 1, {}], not {}", latent,
                            x_t.defined() ? shape_text(x_t.sizes()) : "missing"),
                "x_t");
  }
  const std::int64_t batch = x_t.size(0);
  if (!context.defined() || context.dim() != 3 || (context.size(0) != batch && context.size(0) != 1) ||
      context.size(1) != x_t.size(1) || context.size(2) != 2 * latent) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("context_latents must be [{} or 1, {}, {}] to match x_t {}, not {}", batch, x_t.size(1),
                            2 * latent, shape_text(x_t.sizes()),
                            context.defined() ? shape_text(context.sizes()) : "missing"),
                "context_latents");
  }
  if (condition_batch != batch && condition_batch != 1) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("conditions were prepared for a batch of {}, x_t has {}", condition_batch, batch), "x_t");
  }
  return {};
}

Result<DitConditioning> AceStepDit::prepare(const at::Tensor& encoder_states, const at::Tensor& encoder_mask,
                                            const at::Tensor& context_latents) const {
  if (auto ok = check_conditions(encoder_states, encoder_mask); !ok) return fail(ok.error());
  const std::int64_t latent = config_.audio_acoustic_hidden_dim;
  if (!context_latents.defined() || context_latents.dim() != 3 || context_latents.size(1) < 1 ||
      context_latents.size(2) != 2 * latent) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("context_latents must be [batch, frames >= 1, {}], not {}", 2 * latent,
                            context_latents.defined() ? shape_text(context_latents.sizes()) : "missing"),
                "context_latents");
  }
  const auto options = weights_->proj_in_weight.options();
  DitConditioning conditioning;
  auto context = run_inference("DiT conditioning", [&] {
    const at::Tensor memory = weights_->condition_embedder.forward(encoder_states.to(options));
    for (const auto& layer : weights_->layers) conditioning.cross_memory.push_back(layer.cross_attn.project_memory(memory));
    if (encoder_mask.defined()) conditioning.memory_valid = encoder_mask.to(options.device()) != 0;
    return context_latents.to(options);
  });
  if (!context) return fail(context.error());
  conditioning.context_latents = std::move(*context);
  return conditioning;
}

at::Tensor AceStepDit::run(const at::Tensor& x_t, double t, const at::Tensor& context_latents,
                           const at::Tensor& memory_valid, const std::function<KeyValues(std::size_t)>& memory) const {
  const Weights& w = *weights_;
  const auto options = w.proj_in_weight.options();
  const at::Tensor x = x_t.to(options);
  const std::int64_t batch = x.size(0), frames = x.size(1), patch = config_.patch_size;

  // Every item shares t; the second embedder sees t - r, which the turbo
  // sampler always sets to 0.
  const at::Tensor times = at::full({batch}, t, options);
  const auto [temb_t, modulation_t] = w.time_embed.forward(times);
  const auto [temb_r, modulation_r] = w.time_embed_r.forward(times - times);
  const at::Tensor temb = temb_t + temb_r;
  const at::Tensor modulations = modulation_t + modulation_r;

  // [context | x_t] on channels, zero-padded to whole patches, then patched.
  at::Tensor h = at::cat({context_latents.to(options).expand({batch, frames, -1}), x}, -1);
  if (const std::int64_t remainder = frames % patch; remainder != 0) {
    h = at::constant_pad_nd(h, {0, 0, 0, patch - remainder}, 0.0);
  }
  h = at::conv1d(h.transpose(1, 2), w.proj_in_weight, w.proj_in_bias, {patch}).transpose(1, 2);

  const RotaryTable rope = RotaryTable::build(h.size(1), config_.head_dim, config_.rope_theta, options);
  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    h = w.layers[i].forward(h, rope, modulations, memory(i), memory_valid);
  }

  const std::vector<at::Tensor> shift_scale = (w.scale_shift_table + temb.unsqueeze(1)).chunk(2, 1);
  h = w.norm_out.forward(h) * (1 + shift_scale[1]) + shift_scale[0];
  const at::Tensor out = at::conv_transpose1d(h.transpose(1, 2), w.proj_out_weight, w.proj_out_bias, {patch});
  // Upstream returns the padded length; the frames past T are not part of the song.
  return out.transpose(1, 2).narrow(1, 0, frames);
}

Result<at::Tensor> AceStepDit::velocity(const at::Tensor& x_t, double t, const DitConditioning& conditioning) const {
  if (conditioning.cross_memory.size() != weights_->layers.size()) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("conditioning holds keys for {} layers, the DiT has {}: prepare it with this DiT",
                            conditioning.cross_memory.size(), weights_->layers.size()),
                "conditioning");
  }
  const std::int64_t condition_batch = conditioning.cross_memory.front().keys.size(0);
  if (auto ok = check_latents(x_t, conditioning.context_latents, condition_batch); !ok) return fail(ok.error());
  if (!std::isfinite(t)) return fail(ErrorCode::invalid_argument, "the timestep must be a finite number", "t");
  return run_inference("DiT step", [&] {
    return run(x_t, t, conditioning.context_latents, conditioning.memory_valid,
               [&](std::size_t layer) { return conditioning.cross_memory[layer]; });
  });
}

Result<at::Tensor> AceStepDit::velocity(const at::Tensor& x_t, double t, const at::Tensor& context_latents,
                                        const at::Tensor& encoder_states, const at::Tensor& encoder_mask) const {
  if (auto ok = check_conditions(encoder_states, encoder_mask); !ok) return fail(ok.error());
  if (auto ok = check_latents(x_t, context_latents, encoder_states.size(0)); !ok) return fail(ok.error());
  if (!std::isfinite(t)) return fail(ErrorCode::invalid_argument, "the timestep must be a finite number", "t");
  return run_inference("DiT step", [&] {
    const auto options = weights_->proj_in_weight.options();
    const at::Tensor memory = weights_->condition_embedder.forward(encoder_states.to(options));
    const at::Tensor valid = encoder_mask.defined() ? encoder_mask.to(options.device()) != 0 : at::Tensor();
    return run(x_t, t, context_latents, valid,
               [&](std::size_t layer) { return weights_->layers[layer].cross_attn.project_memory(memory); });
  });
}

}  // namespace ferry::acestep
