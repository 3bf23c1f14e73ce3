#pragma once
// Checkpoints as LibTorch tensors: a state dict (name -> tensor) and the
// Demucs package (class name, constructor arguments, state), loaded to the
// chosen device and floating-point type.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "agent/models/checkpoint_contents.hpp"
#include "common/error.hpp"

namespace ferry::models {

/// Parameters and buffers by their PyTorch name ("encoder.0.conv.weight").
using StateDict = std::map<std::string, at::Tensor>;

/// Where and as what the weights should live. Floating tensors (float16,
/// bfloat16, float32, float64 on disk) become `dtype`; others keep theirs.
struct LoadOptions {
  c10::Device device = c10::Device(c10::DeviceType::CPU);
  c10::ScalarType dtype = c10::ScalarType::Float;
  /// Checkpoint files larger than this are refused before anything is read.
  std::uint64_t max_file_bytes = kDefaultMaxCheckpointBytes;
};

/// A Demucs model file: the class to build, its constructor arguments as
/// plain values (ints, floats, bools, strings, lists, Fraction) and weights.
struct DemucsCheckpoint {
  std::string klass;  ///< e.g. "demucs.htdemucs.HTDemucs"
  std::vector<ValuePtr> args;
  std::map<std::string, ValuePtr> kwargs;
  StateDict state;
};

/// One tensor from validated checkpoint bytes (copied, so the file may go).
Result<at::Tensor> to_tensor(const TensorData& data, const LoadOptions& options = {});

/// The state dict of parsed contents. Tensors are made one at a time, each
/// file page given back once copied, so the peak is about the converted
/// weights plus one tensor.
Result<StateDict> to_state_dict(const CheckpointContents& contents, const LoadOptions& options = {});

/// Reads any supported checkpoint (torch.save zip with a Demucs package or a
/// plain state dict, e.g. torchaudio's HDemucs; or safetensors) as a state dict.
Result<StateDict> load_state_dict(const std::filesystem::path& path, const LoadOptions& options = {});

/// Reads a file written by torch.save(tensor): exactly one bare tensor (a
/// state dict or a Demucs package is refused).
Result<at::Tensor> load_tensor(const std::filesystem::path& path, const LoadOptions& options = {});

/// Reads an official-format Demucs model file (`klass`, `kwargs`, `state`).
Result<DemucsCheckpoint> load_demucs_checkpoint(const std::filesystem::path& path, const LoadOptions& options = {});

}  // namespace ferry::models
