#include "agent/models/acestep/oobleck_vae.hpp"

#include <cmath>

#include <ATen/ATen.h>
#include <fmt/format.h>

namespace ferry::acestep {
namespace {

// diffusers' Snake1d adds this to beta before taking its reciprocal.
constexpr double kSnakeEpsilon = 1e-9;
// Every residual unit of a decoder block: kernel 7 at dilations 1, 3, 9.
constexpr std::int64_t kResidualKernel = 7;
constexpr std::int64_t kResidualDilations[] = {1, 3, 9};
// The first and last convolutions: kernel 7, padding 3.
constexpr std::int64_t kOuterKernel = 7;
// Below this peak, audio counts as silence and is not amplified further
// (the clamp upstream applies before dividing by the peak).
constexpr double kSilencePeak = 1e-6;

/// Snake1d with log-scale parameters: x + sin²(e^α·x) / (e^β + 1e-9), per
/// channel. The exponentials and the reciprocal are taken once at load.
struct Snake {
  at::Tensor frequency, inverse_magnitude;  ///< [1, C, 1]

  void load(WeightTable& table, const std::string& prefix, std::int64_t channels, c10::ScalarType dtype) {
    const at::Tensor alpha = table.take(prefix + ".alpha", {1, channels, 1});
    const at::Tensor beta = table.take(prefix + ".beta", {1, channels, 1});
    if (!alpha.defined() || !beta.defined()) return;
    frequency = alpha.to(at::kFloat).exp().to(dtype);
    inverse_magnitude = (beta.to(at::kFloat).exp() + kSnakeEpsilon).reciprocal().to(dtype);
  }

  at::Tensor forward(const at::Tensor& x) const {
    // One temporary instead of five: these tensors reach 128 × 491 520 samples.
    at::Tensor y = x * frequency;
    y.sin_();
    y.mul_(y);
    y.mul_(inverse_magnitude);
    return y.add_(x);
  }
};

/// A weight-normalised Conv1d or ConvTranspose1d, fused at load.
struct Conv {
  at::Tensor weight, bias;
  std::int64_t stride = 1, padding = 0, dilation = 1;
  bool transposed = false;

  /// `shape` is the weight's ([out, in, k], or [in, out, k] when transposed).
  void load(WeightTable& table, const std::string& prefix, const std::vector<std::int64_t>& shape, bool with_bias,
            c10::ScalarType dtype) {
    if (table.contains(prefix + ".weight")) {
      // Already fused (an export that removed the weight norm).
      const at::Tensor fused = table.take(prefix + ".weight", shape);
      if (fused.defined()) weight = fused.to(dtype);
    } else {
      const at::Tensor magnitude = table.take(prefix + ".weight_g", {shape[0], 1, 1});
      const at::Tensor direction = table.take(prefix + ".weight_v", shape);
      if (magnitude.defined() && direction.defined()) {
        // torch.nn.utils.weight_norm(dim=0): w = g · v / ‖v‖, the norm over
        // every dimension but the first, computed in float32.
        const at::Tensor v = direction.to(at::kFloat);
        const at::Tensor norm = v.pow(2).sum({1, 2}, /*keepdim=*/true).sqrt();
        weight = (v * (magnitude.to(at::kFloat) / norm)).to(dtype);
      }
    }
    if (with_bias) {
      const at::Tensor b = table.take(prefix + ".bias", {transposed ? shape[1] : shape[0]});
      if (b.defined()) bias = b.to(dtype);
    }
  }

  at::Tensor forward(const at::Tensor& x) const {
    if (transposed) return at::conv_transpose1d(x, weight, bias, stride, padding);
    return at::conv1d(x, weight, bias, stride, padding, dilation);
  }
};

/// OobleckResidualUnit: x + conv2(snake2(conv1(snake1(x)))), lengths kept.
struct ResidualUnit {
  Snake snake1, snake2;
  Conv conv1, conv2;

  void load(WeightTable& table, const std::string& prefix, std::int64_t channels, std::int64_t dilation,
            c10::ScalarType dtype) {
    snake1.load(table, prefix + ".snake1", channels, dtype);
    conv1.dilation = dilation;
    conv1.padding = (kResidualKernel - 1) * dilation / 2;
    conv1.load(table, prefix + ".conv1", {channels, channels, kResidualKernel}, true, dtype);
    snake2.load(table, prefix + ".snake2", channels, dtype);
    conv2.load(table, prefix + ".conv2", {channels, channels, 1}, true, dtype);
  }

  at::Tensor forward(const at::Tensor& x) const {
    return x + conv2.forward(snake2.forward(conv1.forward(snake1.forward(x))));
  }
};

/// OobleckDecoderBlock: Snake, then a transposed convolution upsampling by
/// `stride` (kernel 2·stride, padding ⌈stride/2⌉), then three residual units.
struct DecoderBlock {
  Snake snake1;
  Conv conv_t1;
  std::vector<ResidualUnit> units;

  void load(WeightTable& table, const std::string& prefix, std::int64_t in, std::int64_t out, std::int64_t stride,
            c10::ScalarType dtype) {
    snake1.load(table, prefix + ".snake1", in, dtype);
    conv_t1.transposed = true;
    conv_t1.stride = stride;
    conv_t1.padding = (stride + 1) / 2;
    conv_t1.load(table, prefix + ".conv_t1", {in, out, 2 * stride}, true, dtype);
    for (std::size_t i = 0; i < std::size(kResidualDilations); ++i) {
      units.emplace_back();
      units.back().load(table, fmt::format("{}.res_unit{}", prefix, i + 1), out, kResidualDilations[i], dtype);
    }
  }

  at::Tensor forward(const at::Tensor& x) const {
    at::Tensor y = conv_t1.forward(snake1.forward(x));
    for (const ResidualUnit& unit : units) y = unit.forward(y);
    return y;
  }
};

/// Channels entering each decoder block and leaving the last one, as
/// OobleckDecoder.__init__ computes them ([1] + channel_multiples, reversed).
std::vector<std::int64_t> block_channels(const OobleckConfig& c) {
  std::vector<std::int64_t> channels;
  channels.push_back(c.decoder_channels * c.channel_multiples.back());
  for (auto it = c.channel_multiples.rbegin() + 1; it != c.channel_multiples.rend(); ++it) {
    channels.push_back(c.decoder_channels * *it);
  }
  channels.push_back(c.decoder_channels);
  return channels;
}

std::vector<std::int64_t> upsampling_ratios(const OobleckConfig& c) {
  return {c.downsampling_ratios.rbegin(), c.downsampling_ratios.rend()};
}

}  // namespace

struct OobleckDecoder::Weights {
  Conv conv1;
  std::vector<DecoderBlock> blocks;
  Snake snake1;
  Conv conv2;
};

std::int64_t OobleckConfig::hop_length() const {
  std::int64_t hop = 1;
  for (std::int64_t ratio : downsampling_ratios) hop *= ratio;
  return hop;
}

Result<OobleckConfig> parse_oobleck_config(const ModelConfig& json) {
  OobleckConfig c;
  if (auto ok = json.read_positive({{"audio_channels", &c.audio_channels},
                                    {"decoder_channels", &c.decoder_channels},
                                    {"decoder_input_channels", &c.decoder_input_channels}});
      !ok) {
    return fail(ok.error());
  }
  // diffusers' default rate; ACE-Step's config always names 48 kHz.
  auto rate = json.integer_or("sampling_rate", 44100);
  if (!rate) return fail(rate.error());
  c.sampling_rate = *rate;
  auto multiples = json.integers("channel_multiples");
  if (!multiples) return fail(multiples.error());
  c.channel_multiples = *multiples;
  auto ratios = json.integers("downsampling_ratios");
  if (!ratios) return fail(ratios.error());
  c.downsampling_ratios = *ratios;

  const auto invalid = [&](const std::string& what, const char* field) {
    return fail(ErrorCode::invalid_argument, fmt::format("VAE config {}: {}", json.source(), what), field);
  };
  if (auto ok = json.check_positive("sampling_rate", c.sampling_rate); !ok) return fail(ok.error());
  if (c.channel_multiples.size() != c.downsampling_ratios.size()) {
    return invalid(fmt::format("{} channel_multiples for {} downsampling_ratios; they go in pairs",
                               c.channel_multiples.size(), c.downsampling_ratios.size()),
                   "channel_multiples");
  }
  for (std::int64_t multiple : c.channel_multiples) {
    if (multiple <= 0) return invalid(fmt::format("channel multiple {} must be positive", multiple), "channel_multiples");
  }
  for (std::int64_t ratio : c.downsampling_ratios) {
    if (ratio <= 0) return invalid(fmt::format("downsampling ratio {} must be positive", ratio), "downsampling_ratios");
    if (ratio % 2 != 0) {
      return fail(ErrorCode::unsupported,
                  fmt::format("VAE config {}: odd downsampling ratio {} is not supported (its upsampling does not "
                              "yield exactly {} samples per frame)",
                              json.source(), ratio, ratio),
                  "downsampling_ratios");
    }
  }
  return c;
}

Result<std::vector<Tile>> plan_tiles(std::int64_t frames, const TileOptions& options) {
  if (options.overlap_frames < 0 || options.tile_frames <= 2 * options.overlap_frames) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("VAE tiles of {} frames cannot hold an overlap of {} frames on each side and a core",
                            options.tile_frames, options.overlap_frames),
                "tile_frames");
  }
  std::vector<Tile> tiles;
  if (frames <= 0) return tiles;
  if (frames <= options.tile_frames) {
    tiles.push_back(Tile{0, frames, 0, frames});
    return tiles;
  }
  // Every tile but the first and last needs context on both sides, so a core
  // holds tile − 2·overlap frames.
  const std::int64_t core = options.tile_frames - 2 * options.overlap_frames;
  for (std::int64_t begin = 0; begin < frames; begin += core) {
    const std::int64_t end = std::min(frames, begin + core);
    tiles.push_back(Tile{std::max<std::int64_t>(0, begin - options.overlap_frames),
                         std::min(frames, end + options.overlap_frames), begin, end});
  }
  return tiles;
}

OobleckDecoder::OobleckDecoder(OobleckConfig config, std::unique_ptr<Weights> weights, c10::Device device,
                               c10::ScalarType dtype)
    : config_(std::move(config)), weights_(std::move(weights)), device_(device), dtype_(dtype) {}

OobleckDecoder::~OobleckDecoder() = default;

Result<std::unique_ptr<OobleckDecoder>> OobleckDecoder::load(const std::filesystem::path& folder,
                                                             const models::LoadOptions& options) {
  if (auto ok = check_network_dtype(options.dtype, "Oobleck VAE decoder"); !ok) return fail(ok.error());
  // Load as float32 so that the weight norm is fused at full precision.
  models::LoadOptions full_precision = options;
  full_precision.dtype = at::kFloat;
  auto loaded = load_model_folder(folder, kOobleckWeightsFile, full_precision);
  if (!loaded) return fail(loaded.error());
  auto config = parse_oobleck_config(loaded->config);
  if (!config) return fail(config.error());
  WeightTable table(loaded->weights, loaded->weights_file.string());
  return create(*config, table, options.dtype);
}

Result<std::unique_ptr<OobleckDecoder>> OobleckDecoder::create(const OobleckConfig& c, WeightTable& table,
                                                               c10::ScalarType dtype) {
  if (auto ok = check_network_dtype(dtype, "Oobleck VAE decoder"); !ok) return fail(ok.error());
  const std::vector<std::int64_t> channels = block_channels(c);
  const std::vector<std::int64_t> strides = upsampling_ratios(c);
  auto weights = std::make_unique<Weights>();
  weights->conv1.padding = kOuterKernel / 2;
  weights->conv1.load(table, "decoder.conv1", {channels.front(), c.decoder_input_channels, kOuterKernel}, true, dtype);
  for (std::size_t i = 0; i < strides.size(); ++i) {
    weights->blocks.emplace_back();
    weights->blocks.back().load(table, fmt::format("decoder.block.{}", i), channels[i], channels[i + 1], strides[i],
                                dtype);
  }
  weights->snake1.load(table, "decoder.snake1", c.decoder_channels, dtype);
  weights->conv2.padding = kOuterKernel / 2;
  weights->conv2.load(table, "decoder.conv2", {c.audio_channels, c.decoder_channels, kOuterKernel}, false, dtype);
  // The published VAE also holds its encoder, which decoding never uses.
  table.ignore_prefix("encoder.");
  if (auto ok = table.finish(); !ok) return fail(ok.error());
  const c10::Device device = weights->conv1.weight.device();
  return std::unique_ptr<OobleckDecoder>(new OobleckDecoder(c, std::move(weights), device, dtype));
}

std::int64_t OobleckDecoder::receptive_radius_frames() const {
  // Reach of every layer on one side, in latent frames: a kernel-k dilated
  // convolution reaches d·(k−1)/2 samples at its rate; a transposed
  // convolution with kernel 2s reaches under 2 input frames.
  double reach = static_cast<double>(kOuterKernel / 2);
  double rate = 1;  // samples per latent frame at the current layer
  std::int64_t unit_reach = 0;
  for (std::int64_t dilation : kResidualDilations) unit_reach += dilation * (kResidualKernel - 1) / 2;
  for (std::int64_t stride : upsampling_ratios(config_)) {
    reach += 2.0 / rate;
    rate *= static_cast<double>(stride);
    reach += static_cast<double>(unit_reach) / rate;
  }
  reach += static_cast<double>(kOuterKernel / 2) / rate;
  // One more frame covers how the frame grid and the sample grid line up.
  return static_cast<std::int64_t>(std::ceil(reach)) + 1;
}

Status OobleckDecoder::check_latent(const at::Tensor& latent) const {
  if (!latent.defined() || latent.dim() != 3 || latent.size(0) < 1 ||
      latent.size(1) != config_.decoder_input_channels || latent.size(2) < 1) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("VAE input must be a latent [batch, {}, frames] with at least one frame",
                            config_.decoder_input_channels));
  }
  if (!at::isFloatingType(latent.scalar_type())) {
    return fail(ErrorCode::invalid_argument, "VAE input must be a floating-point latent");
  }
  return {};
}

at::Tensor OobleckDecoder::run(const at::Tensor& latent) const {
  at::Tensor x = weights_->conv1.forward(latent.to(device_, dtype_));
  for (const DecoderBlock& block : weights_->blocks) x = block.forward(x);
  return weights_->conv2.forward(weights_->snake1.forward(x)).to(at::kFloat);
}

Result<at::Tensor> OobleckDecoder::decode(const at::Tensor& latent) const {
  if (auto ok = check_latent(latent); !ok) return fail(ok.error());
  return run_inference("VAE decode", [&] { return run(latent); });
}

Result<at::Tensor> OobleckDecoder::decode_tiled(const at::Tensor& latent, const TileOptions& options,
                                                const TileProgress& progress) const {
  if (auto ok = check_latent(latent); !ok) return fail(ok.error());
  auto tiles = plan_tiles(latent.size(2), options);
  if (!tiles) return fail(tiles.error());
  const std::int64_t hop = hop_length();
  auto audio = run_inference("VAE output allocation", [&] {
    return at::empty({latent.size(0), config_.audio_channels, latent.size(2) * hop}, at::kFloat);
  });
  if (!audio) return audio;
  const auto total = static_cast<std::int64_t>(tiles->size());
  for (std::int64_t index = 0; index < total; ++index) {
    const Tile& tile = (*tiles)[static_cast<std::size_t>(index)];
    auto decoded = run_inference("VAE tile decode", [&] {
      const at::Tensor window = run(latent.slice(2, tile.window_begin, tile.window_end));
      const at::Tensor core =
          window.slice(2, (tile.core_begin - tile.window_begin) * hop, (tile.core_end - tile.window_begin) * hop);
      audio->slice(2, tile.core_begin * hop, tile.core_end * hop).copy_(core);
      return core;
    });
    if (!decoded) return decoded;
    if (progress && !progress(index + 1, total)) {
      return fail(ErrorCode::cancelled, fmt::format("VAE decode cancelled after tile {} of {}", index + 1, total));
    }
  }
  return audio;
}

Result<at::Tensor> normalize_peak(const at::Tensor& audio, double peak_dbfs) {
  if (!audio.defined() || audio.dim() != 3 || audio.size(2) < 1 || !at::isFloatingType(audio.scalar_type())) {
    return fail(ErrorCode::invalid_argument, "audio to normalise must be a floating-point [batch, channels, samples]");
  }
  if (!std::isfinite(peak_dbfs) || peak_dbfs > 0) {
    return fail(ErrorCode::invalid_argument, fmt::format("peak level {} dBFS must be finite and at most 0", peak_dbfs));
  }
  auto finite = run_inference("peak normalisation", [&] { return at::isfinite(audio).all(); });
  if (!finite) return finite;
  if (!finite->item<bool>()) {
    return fail(ErrorCode::invalid_argument, "audio to normalise holds NaN or infinite samples");
  }
  const double target = std::pow(10.0, peak_dbfs / 20.0);
  return run_inference("peak normalisation", [&] {
    const at::Tensor wide = audio.to(at::kFloat);
    const at::Tensor peak = wide.abs().amax({1, 2}, /*keepdim=*/true);
    return wide * (target / peak.clamp_min(kSilencePeak));
  });
}

}  // namespace ferry::acestep
