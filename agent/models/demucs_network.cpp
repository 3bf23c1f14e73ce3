#include "agent/models/demucs_network.hpp"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

#include "agent/models/demucs_layers.hpp"
#include "agent/models/demucs_transformer.hpp"
#include "agent/models/torch_errors.hpp"

namespace ferry::models {
namespace demucs {

struct Layers {
  std::vector<EncoderLayer> encoder, tencoder;
  std::vector<DecoderLayer> decoder, tdecoder;
  at::Tensor freq_emb;  ///< (freqs, channels) or undefined
  std::optional<Conv> upsampler, downsampler, upsampler_t, downsampler_t;
  std::optional<CrossTransformer> transformer;
  c10::ScalarType dtype = at::kFloat;
};

namespace {

struct LayerPlan {
  std::vector<LayerSpec> encoder, tencoder, decoder, tdecoder;  ///< in execution order
  std::int64_t freq_emb_bins = 0, freq_emb_channels = 0;
  std::int64_t transformer_channels = 0;
};

// The layer-by-layer shapes that HDemucs/HTDemucs.__init__ compute.
LayerPlan plan_layers(const DemucsConfig& c) {
  LayerPlan plan;
  const bool v3 = c.variant == DemucsVariant::hdemucs;
  std::int64_t chin = c.audio_channels;
  std::int64_t chin_z = chin * 2;  // complex as channels
  std::int64_t chout = c.channels_time.value_or(c.channels);
  std::int64_t chout_z = c.channels;
  std::int64_t freqs = c.nfft / 2;
  for (int index = 0; index < c.depth; ++index) {
    LayerSpec kw;
    kw.norm_groups = index >= c.norm_starts ? c.norm_groups : 0;
    kw.freq = freqs > 1;
    kw.kernel_size = c.kernel_size;
    kw.stride = c.stride;
    kw.rewrite = c.rewrite;
    if (!kw.freq) {
      kw.kernel_size = c.time_stride * 2;
      kw.stride = c.time_stride;
    }
    bool last_freq = false;
    if (kw.freq && freqs <= c.kernel_size) {
      kw.kernel_size = static_cast<int>(freqs);
      kw.pad = false;
      last_freq = true;
    }
    DConvOptions dconv{c.dconv_depth, c.dconv_comp, v3 && index >= c.dconv_lstm, v3 && index >= c.dconv_attn};
    LayerSpec kwt = kw;  // the time branch: plain 1-D layers
    kwt.freq = false;
    kwt.kernel_size = c.kernel_size;
    kwt.stride = c.stride;
    kwt.pad = true;
    if (last_freq) {
      chout_z = std::max(chout, chout_z);
      chout = chout_z;
    }
    LayerSpec enc = kw;
    enc.chin = chin_z;
    enc.chout = chout_z;
    enc.context = c.context_enc;
    if (c.dconv_mode & 1) enc.dconv = dconv;
    plan.encoder.push_back(enc);
    if (kw.freq) {
      LayerSpec tenc = kwt;
      tenc.chin = chin;
      tenc.chout = chout;
      tenc.context = c.context_enc;
      tenc.empty = last_freq;
      if (c.dconv_mode & 1) tenc.dconv = dconv;
      plan.tencoder.push_back(tenc);
    }
    if (index == 0) {
      chin = static_cast<std::int64_t>(c.audio_channels) * static_cast<std::int64_t>(c.sources.size());
      chin_z = chin * 2;
    }
    LayerSpec dec = kw;
    dec.chin = chout_z;
    dec.chout = chin_z;
    dec.context = c.context;
    dec.last = index == 0;
    if (c.dconv_mode & 2) dec.dconv = dconv;
    plan.decoder.insert(plan.decoder.begin(), dec);
    if (kw.freq) {
      LayerSpec tdec = kwt;
      tdec.chin = chout;
      tdec.chout = chin;
      tdec.context = c.context;
      tdec.empty = last_freq;
      tdec.last = index == 0;
      if (c.dconv_mode & 2) tdec.dconv = dconv;
      plan.tdecoder.insert(plan.tdecoder.begin(), tdec);
    }
    chin = chout;
    chin_z = chout_z;
    chout = static_cast<std::int64_t>(c.growth * static_cast<double>(chout));
    chout_z = static_cast<std::int64_t>(c.growth * static_cast<double>(chout_z));
    if (kw.freq) freqs = freqs <= c.kernel_size ? 1 : freqs / c.stride;
    if (index == 0 && c.freq_emb != 0) {
      plan.freq_emb_bins = freqs;
      plan.freq_emb_channels = chin_z;
    }
  }
  plan.transformer_channels =
      static_cast<std::int64_t>(static_cast<double>(c.channels) * std::pow(c.growth, c.depth - 1));
  return plan;
}

// demucs.hdemucs.pad1d: reflection padding that also works on inputs shorter
// than the padding, by zero-padding them first.
at::Tensor pad1d(at::Tensor x, std::int64_t left, std::int64_t right, bool reflect) {
  if (!reflect) return at::constant_pad_nd(x, {left, right});
  const std::int64_t length = x.size(-1);
  const std::int64_t max_pad = std::max(left, right);
  if (length <= max_pad) {
    const std::int64_t extra = max_pad - length + 1;
    const std::int64_t extra_right = std::min(right, extra);
    const std::int64_t extra_left = extra - extra_right;
    left -= extra_left;
    right -= extra_right;
    x = at::constant_pad_nd(x, {extra_left, extra_right});
  }
  return at::reflection_pad1d(x, {left, right});
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

}  // namespace
}  // namespace demucs

DemucsNetwork::DemucsNetwork(DemucsConfig config) : config_(std::move(config)) {}
DemucsNetwork::~DemucsNetwork() = default;

Result<std::unique_ptr<DemucsNetwork>> DemucsNetwork::create(const DemucsCheckpoint& checkpoint) {
  auto config = parse_demucs_config(checkpoint.klass, checkpoint.args, checkpoint.kwargs);
  if (!config) return fail(config.error());
  return create(*config, checkpoint.state);
}

Result<std::unique_ptr<DemucsNetwork>> DemucsNetwork::create(const DemucsConfig& config, const StateDict& state) {
  using namespace demucs;
  std::unique_ptr<DemucsNetwork> network(new DemucsNetwork(config));
  auto layers = std::make_unique<Layers>();
  const LayerPlan plan = plan_layers(config);
  WeightSource w(state);
  auto load_all = [&](auto& out, const std::vector<LayerSpec>& specs, const std::string& name) {
    for (std::size_t i = 0; i < specs.size(); ++i) out.emplace_back().load(w, fmt::format("{}.{}", name, i), specs[i]);
  };
  load_all(layers->encoder, plan.encoder, "encoder");
  load_all(layers->tencoder, plan.tencoder, "tencoder");
  load_all(layers->decoder, plan.decoder, "decoder");
  load_all(layers->tdecoder, plan.tdecoder, "tdecoder");
  if (plan.freq_emb_bins > 0) {
    layers->freq_emb = w.take("freq_emb.embedding.weight", {plan.freq_emb_bins, plan.freq_emb_channels});
  }
  if (config.variant == DemucsVariant::htdemucs && config.transformer.layers > 0) {
    std::int64_t dim = plan.transformer_channels;
    if (config.bottom_channels > 0) {
      const std::int64_t bottom = config.bottom_channels;
      for (auto [conv, name, in, out] :
           {std::tuple{&layers->upsampler, "channel_upsampler", dim, bottom},
            std::tuple{&layers->downsampler, "channel_downsampler", bottom, dim},
            std::tuple{&layers->upsampler_t, "channel_upsampler_t", dim, bottom},
            std::tuple{&layers->downsampler_t, "channel_downsampler_t", bottom, dim}}) {
        conv->emplace().load(w, name, in, out, {1}, {1}, {0});
      }
      dim = bottom;
    }
    if (dim % config.transformer.heads != 0 || dim % 4 != 0) {
      return fail(ErrorCode::invalid_argument,
                  fmt::format("transformer width {} does not suit {} heads", dim, config.transformer.heads));
    }
    layers->transformer.emplace().load(w, "crosstransformer", dim, config.transformer);
  }
  if (auto ok = w.finish(); !ok) return fail(ok.error());
  if (!state.empty()) {
    layers->dtype = state.begin()->second.scalar_type();
    network->device_ = state.begin()->second.device();
  }
  network->layers_ = std::move(layers);
  return network;
}

at::Tensor DemucsNetwork::spectrogram(const at::Tensor& x) const {
  const std::int64_t hl = config_.nfft / 4;
  const std::int64_t length = x.size(-1);
  const std::int64_t le = demucs::ceil_div(length, hl);
  const std::int64_t pad = hl / 2 * 3;
  at::Tensor padded = demucs::pad1d(x, pad, pad + le * hl - length, /*reflect=*/!config_.hybrid_old);
  const auto window = at::hann_window(config_.nfft, padded.options());
  at::Tensor flat = padded.reshape({-1, padded.size(-1)});
  at::Tensor z = at::stft(flat, config_.nfft, hl, config_.nfft, window, /*center=*/true, "reflect",
                          /*normalized=*/true, /*onesided=*/true, /*return_complex=*/true);
  z = z.view({x.size(0), x.size(1), z.size(-2), z.size(-1)});
  // Drop the Nyquist bin and the two frames of padding on each side.
  return z.slice(-2, 0, z.size(-2) - 1).slice(-1, 2, 2 + le);
}

at::Tensor DemucsNetwork::inverse_spectrogram(const at::Tensor& cac, std::int64_t length) const {
  // cac: (B, S, C * 2, F, T), real and imaginary parts as channels.
  const std::int64_t B = cac.size(0), S = cac.size(1), Fr = cac.size(3), T = cac.size(4);
  at::Tensor parts = cac.view({B, S, -1, 2, Fr, T}).permute({0, 1, 2, 4, 5, 3});
  // Restore the Nyquist bin and two frames each side, as zeros.
  parts = at::constant_pad_nd(parts, {0, 0, 2, 2, 0, 1}).contiguous();
  at::Tensor z = at::view_as_complex(parts);
  const std::int64_t hl = config_.nfft / 4;
  const std::int64_t pad = hl / 2 * 3;
  const std::int64_t n_fft = 2 * (Fr + 1) - 2;
  const std::int64_t le = hl * demucs::ceil_div(length, hl) + (config_.hybrid_old ? 0 : 2 * pad);
  const auto window = at::hann_window(n_fft, cac.options());
  at::Tensor x = at::istft(z.view({-1, Fr + 1, T + 4}), n_fft, hl, n_fft, window, /*center=*/true,
                           /*normalized=*/true, /*onesided=*/true, le);
  x = x.view({B, S, -1, le});
  return config_.hybrid_old ? x.slice(-1, 0, length) : x.slice(-1, pad, pad + length);
}

at::Tensor DemucsNetwork::run(const at::Tensor& input) const {
  const demucs::Layers& L = *layers_;
  const bool v4 = config_.variant == DemucsVariant::htdemucs;
  const std::int64_t original_length = input.size(-1);
  at::Tensor mix = input;
  if (v4 && config_.use_train_segment && original_length < segment_samples()) {
    mix = at::constant_pad_nd(mix, {0, segment_samples() - original_length});
  }
  const std::int64_t length = mix.size(-1);
  const std::int64_t B = mix.size(0);

  at::Tensor z = spectrogram(mix);
  const std::int64_t Fq = z.size(2), T = z.size(3);
  at::Tensor mag = at::view_as_real(z).permute({0, 1, 4, 2, 3}).reshape({B, -1, Fq, T});
  at::Tensor mean = mag.mean({1, 2, 3}, /*keepdim=*/true);
  at::Tensor std = mag.std({1, 2, 3}, /*unbiased=*/true, /*keepdim=*/true);
  at::Tensor x = ((mag - mean) / (1e-5 + std)).to(L.dtype);
  at::Tensor meant = mix.mean({1, 2}, true);
  at::Tensor stdt = mix.std({1, 2}, true, true);
  at::Tensor xt = ((mix - meant) / (1e-5 + stdt)).to(L.dtype);

  std::vector<at::Tensor> saved, saved_t;
  std::vector<std::int64_t> lengths, lengths_t;
  for (std::size_t idx = 0; idx < L.encoder.size(); ++idx) {
    lengths.push_back(x.size(-1));
    at::Tensor inject;
    if (idx < L.tencoder.size()) {
      lengths_t.push_back(xt.size(-1));
      const auto& tenc = L.tencoder[idx];
      xt = tenc.forward(xt, {});
      if (!tenc.spec.empty) saved_t.push_back(xt);
      else inject = xt;  // the branches merge here
    }
    x = L.encoder[idx].forward(x, inject);
    if (idx == 0 && L.freq_emb.defined()) {
      // Frequency embedding, so that convolutions over frequencies are not equivariant.
      at::Tensor emb = (L.freq_emb.slice(0, 0, x.size(-2)) * config_.emb_scale).t().unsqueeze(0).unsqueeze(-1);
      x = x + config_.freq_emb * emb.expand_as(x);
    }
    saved.push_back(x);
  }

  if (!v4) {
    // v3 decodes from zeros: the signal flows through the skip connections.
    x = at::zeros_like(x);
  } else if (L.transformer) {
    const std::int64_t f = x.size(2), t = x.size(3);
    if (L.upsampler) {
      x = L.upsampler->forward(x.reshape({B, x.size(1), f * t})).view({B, -1, f, t});
      xt = L.upsampler_t->forward(xt);
    }
    std::tie(x, xt) = L.transformer->forward(x, xt);
    if (L.downsampler) {
      x = L.downsampler->forward(x.reshape({B, x.size(1), f * t})).view({B, -1, f, t});
      xt = L.downsampler_t->forward(xt);
    }
  }

  const std::size_t offset = L.decoder.size() - L.tdecoder.size();
  for (std::size_t idx = 0; idx < L.decoder.size(); ++idx) {
    at::Tensor skip = saved.back();
    saved.pop_back();
    at::Tensor pre;
    std::tie(x, pre) = L.decoder[idx].forward(x, skip, lengths.back());
    lengths.pop_back();
    if (idx >= offset) {
      const auto& tdec = L.tdecoder[idx - offset];
      const std::int64_t length_t = lengths_t.back();
      lengths_t.pop_back();
      if (tdec.spec.empty) {
        xt = tdec.forward(pre.select(2, 0), {}, length_t).first;
      } else {
        xt = tdec.forward(xt, saved_t.back(), length_t).first;
        saved_t.pop_back();
      }
    }
  }

  const auto S = static_cast<std::int64_t>(config_.sources.size());
  at::Tensor spec_out = x.to(at::kFloat).view({B, S, -1, Fq, T}) * std.unsqueeze(1) + mean.unsqueeze(1);
  at::Tensor wave_from_spec = inverse_spectrogram(spec_out, length);
  at::Tensor wave = xt.to(at::kFloat).view({B, S, -1, length}) * stdt.unsqueeze(1) + meant.unsqueeze(1);
  at::Tensor out = wave + wave_from_spec;
  if (length != original_length) out = out.slice(-1, 0, original_length);
  return out;
}

Result<at::Tensor> DemucsNetwork::forward(const at::Tensor& mix) const {
  if (mix.dim() != 3 || mix.size(1) != config_.audio_channels) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("model input must be (batch, {}, samples)", config_.audio_channels));
  }
  if (config_.variant == DemucsVariant::htdemucs && config_.use_train_segment && mix.size(-1) > segment_samples()) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("HTDemucs input of {} samples is longer than its segment of {}", mix.size(-1),
                            segment_samples()));
  }
  if (mix.size(-1) < 1) return fail(ErrorCode::invalid_argument, "model input is empty");
  try {
    c10::InferenceMode guard;
    if (injected_oom_.count > 0 && mix.size(0) > injected_oom_.max_batch) {
      --injected_oom_.count;
      TORCH_CHECK_WITH(OutOfMemoryError, false, "out of memory (injected for a batch of ", mix.size(0), ")");
    }
    return run(mix.to(device_, at::kFloat));
  } catch (const c10::Error& e) {
    return tl::unexpected(from_torch_error(e, "model forward pass failed"));
  } catch (const std::exception& e) {
    return fail(ErrorCode::internal, std::string("model forward pass failed: ") + e.what());
  }
}

void DemucsNetwork::inject_out_of_memory(int count, std::int64_t max_batch) {
  injected_oom_ = InjectedOutOfMemory{count, max_batch};
}

}  // namespace ferry::models
