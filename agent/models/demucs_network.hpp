#pragma once
// HDemucs (v3) and HTDemucs (v4), built from a checkpoint's constructor
// arguments and weights. One class serves both: they share the spectrogram,
// the two U-Net branches and their merge; v4 adds the cross-domain
// transformer at the bottom and always runs at its training length.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "agent/models/checkpoint.hpp"
#include "agent/models/demucs_config.hpp"

namespace ferry::models {

namespace demucs {
struct Layers;  // the encoder/decoder stacks (defined in demucs_network.cpp)
}

/// A loaded Demucs network, ready for inference on the device and dtype of
/// its weights. Not thread-safe; one per worker.
class DemucsNetwork {
 public:
  /// Builds the network that `config` describes and takes its weights from
  /// `state` (already on the target device and dtype). Every tensor must be
  /// used and shaped as expected.
  static Result<std::unique_ptr<DemucsNetwork>> create(const DemucsConfig& config, const StateDict& state);
  /// parse_demucs_config + create.
  static Result<std::unique_ptr<DemucsNetwork>> create(const DemucsCheckpoint& checkpoint);
  ~DemucsNetwork();

  const DemucsConfig& config() const { return config_; }
  const std::vector<std::string>& sources() const { return config_.sources; }
  int samplerate() const { return config_.samplerate; }
  int audio_channels() const { return config_.audio_channels; }
  /// The length every forward pass is padded to (v4), in samples.
  std::int64_t segment_samples() const { return config_.segment_samples(); }
  /// Where the weights live; inputs are moved there.
  c10::Device device() const { return device_; }

  /// The model's forward pass: mix (B, channels, T) -> (B, sources, channels, T),
  /// float32 in and out, on the weights' device. Errors from LibTorch (out
  /// of memory, bad shapes) come back as values.
  Result<at::Tensor> forward(const at::Tensor& mix) const;

  /// Test seam: the next `count` forward passes whose batch is larger than
  /// `max_batch` fail as an out-of-memory on the device does (LibTorch's
  /// c10::OutOfMemoryError, converted like a real one).
  void inject_out_of_memory(int count, std::int64_t max_batch);
  /// How many injected failures have not happened yet.
  int injected_out_of_memory_left() const { return injected_oom_.count; }

 private:
  struct InjectedOutOfMemory {
    int count = 0;
    std::int64_t max_batch = 0;
  };
  explicit DemucsNetwork(DemucsConfig config);
  at::Tensor run(const at::Tensor& mix) const;
  at::Tensor spectrogram(const at::Tensor& x) const;
  at::Tensor inverse_spectrogram(const at::Tensor& z, std::int64_t length) const;

  DemucsConfig config_;
  std::unique_ptr<demucs::Layers> layers_;
  c10::Device device_ = c10::Device(c10::DeviceType::CPU);
  mutable InjectedOutOfMemory injected_oom_;  // forward() is logically const; only tests set it
};

}  // namespace ferry::models
