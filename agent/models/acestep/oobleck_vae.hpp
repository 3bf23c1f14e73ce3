#pragma once
// The decoder of the Oobleck VAE (diffusers' AutoencoderOobleck) that turns
// ACE-Step latents (64 channels at 25 Hz) into 48 kHz stereo audio, whole or
// in overlapping tiles, and the peak normalisation applied to its output.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "agent/models/acestep/acestep_weights.hpp"
#include "agent/models/checkpoint.hpp"
#include "common/error.hpp"

namespace ferry::acestep {

/// The decoder's shape, from diffusers' `config.json` (its names).
struct OobleckConfig {
  std::int64_t audio_channels = 2;
  std::int64_t sampling_rate = 48000;
  std::int64_t decoder_channels = 128;
  std::int64_t decoder_input_channels = 64;  ///< latent channels
  std::vector<std::int64_t> channel_multiples = {1, 2, 4, 8, 16};
  std::vector<std::int64_t> downsampling_ratios = {2, 4, 4, 6, 10};  ///< the decoder uses them reversed

  /// Audio samples per latent frame (the product of the ratios).
  std::int64_t hop_length() const;
};

/// Reads a VAE config; checks sizes and that there is one ratio per channel
/// multiple. Odd ratios are refused: their transposed convolutions do not
/// produce exactly `ratio` samples per frame.
Result<OobleckConfig> parse_oobleck_config(const ModelConfig& config);

/// The file of a VAE checkpoint folder holding the weights.
inline constexpr const char* kOobleckWeightsFile = "diffusion_pytorch_model.safetensors";

/// How a long latent is cut for decoding. Each tile decodes at most
/// `tile_frames` latent frames: a core plus `overlap_frames` of context on each
/// side, whose audio is discarded (no crossfade). Upstream's defaults.
struct TileOptions {
  std::int64_t tile_frames = 1024;
  std::int64_t overlap_frames = 64;
};

/// One tile: the latent frames decoded [window_begin, window_end) and those
/// whose audio is kept [core_begin, core_end).
struct Tile {
  std::int64_t window_begin = 0, window_end = 0;
  std::int64_t core_begin = 0, core_end = 0;
};

/// Cuts `frames` latent frames into tiles whose cores cover every frame once,
/// in order. invalid_argument unless 0 <= overlap and 2·overlap < tile_frames.
Result<std::vector<Tile>> plan_tiles(std::int64_t frames, const TileOptions& options);

/// Told after each tile (tiles done, tiles in all); returning false cancels
/// the decode before the next tile.
using TileProgress = std::function<bool(std::int64_t done, std::int64_t total)>;

/// A loaded Oobleck decoder, ready for inference on the device and dtype of
/// its weights (weight norm fused at load). Not thread-safe; one per worker.
class OobleckDecoder {
 public:
  /// Loads a VAE folder (`config.json` + `diffusion_pytorch_model.safetensors`,
  /// diffusers' tensor names, weight norm stored as weight_g/weight_v; the
  /// encoder's tensors are ignored) to the device and dtype of `options`
  /// (float32 on CPU, bfloat16 or float32 on GPUs; float16 is refused).
  static Result<std::unique_ptr<OobleckDecoder>> load(const std::filesystem::path& folder,
                                                      const models::LoadOptions& options = {});
  /// Builds from a parsed config and weights (fused in float32, then cast to
  /// `dtype`). Every `decoder.*` tensor must be used and shaped as expected.
  static Result<std::unique_ptr<OobleckDecoder>> create(const OobleckConfig& config, WeightTable& table,
                                                        c10::ScalarType dtype);
  ~OobleckDecoder();

  const OobleckConfig& config() const { return config_; }
  c10::Device device() const { return device_; }
  c10::ScalarType dtype() const { return dtype_; }
  std::int64_t hop_length() const { return config_.hop_length(); }
  /// How many latent frames on each side can influence a frame's audio (a
  /// safe upper bound from the kernel sizes, strides and dilations): tiles
  /// whose overlap is at least this match a whole decode.
  std::int64_t receptive_radius_frames() const;

  /// Decodes latents [B, latent channels, T] in one pass to audio
  /// [B, audio channels, T·hop] (float32, on the model's device).
  Result<at::Tensor> decode(const at::Tensor& latent) const;
  /// Decodes tile by tile so that device memory is bounded by one tile;
  /// the audio [B, audio channels, T·hop] is gathered as float32 on the CPU.
  /// Matches `decode` when the overlap is at least receptive_radius_frames().
  /// cancelled when `progress` returns false.
  Result<at::Tensor> decode_tiled(const at::Tensor& latent, const TileOptions& options = {},
                                  const TileProgress& progress = {}) const;

  struct Weights;  ///< defined in oobleck_vae.cpp

 private:
  OobleckDecoder(OobleckConfig config, std::unique_ptr<Weights> weights, c10::Device device, c10::ScalarType dtype);
  Status check_latent(const at::Tensor& latent) const;
  at::Tensor run(const at::Tensor& latent) const;

  OobleckConfig config_;
  std::unique_ptr<Weights> weights_;
  c10::Device device_ = c10::Device(c10::DeviceType::CPU);
  c10::ScalarType dtype_ = c10::ScalarType::Float;
};

/// Peak level ACE-Step normalises its output to: −1 dBFS.
inline constexpr double kOutputPeakDbfs = -1.0;

/// Scales each batch item of `audio` [B, channels, samples] so that its peak
/// (over all channels) sits at `peak_dbfs`, as upstream does after decoding:
/// gain = 10^(dB/20) / max(peak, 1e-6), so silence stays silence. Returns a
/// new float32 tensor; NaN or infinite samples are an invalid_argument.
Result<at::Tensor> normalize_peak(const at::Tensor& audio, double peak_dbfs = kOutputPeakDbfs);

}  // namespace ferry::acestep
