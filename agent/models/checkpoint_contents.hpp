#pragma once
// Checkpoint files read without executing anything and without LibTorch:
// Demucs packages and plain state dicts saved by torch.save (zip + pickle),
// and safetensors. The result lists every tensor with validated bytes.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/models/checkpoint_bytes.hpp"
#include "agent/models/pickle_reader.hpp"
#include "agent/models/pickle_value.hpp"
#include "agent/models/tensor_data.hpp"
#include "common/error.hpp"

namespace ferry::models {

/// A tensor of a checkpoint with its name in the state dict.
struct NamedTensor {
  std::string name;
  TensorData data;
};

/// Which container a checkpoint came in.
enum class CheckpointFormat { torch_zip, safetensors };

/// Everything a checkpoint holds. `bytes` owns the memory all views point into.
struct CheckpointContents {
  std::shared_ptr<const CheckpointBytes> bytes;
  CheckpointFormat format = CheckpointFormat::torch_zip;
  /// The whole unpickled object (null for safetensors).
  ValuePtr root;
  /// Demucs packages: the model class, e.g. "demucs.htdemucs.HTDemucs".
  std::optional<std::string> klass;
  /// Demucs packages: positional and keyword constructor arguments.
  std::vector<ValuePtr> args;
  std::map<std::string, ValuePtr> kwargs;
  /// The state dict, in file order. A file holding one bare tensor
  /// (torch.save(tensor)) gives a single entry with an empty name.
  std::vector<NamedTensor> tensors;
};

/// Parses checkpoint bytes of any supported format (detected from the first
/// bytes): a torch.save zip holding a Demucs package ({klass, args, kwargs,
/// state, ...}), a plain/ordered state dict or one bare tensor, or a
/// safetensors file.
Result<CheckpointContents> parse_checkpoint(std::shared_ptr<const CheckpointBytes> bytes,
                                            const PickleLimits& limits = {});
/// The same for bytes held in memory (crafted files, the fuzzer).
Result<CheckpointContents> parse_checkpoint(std::shared_ptr<const std::string> bytes,
                                            const PickleLimits& limits = {});

/// Maps `path` (refusing files over `max_bytes`) and parses it, with the path
/// in error messages. Tensor bytes are views into the mapping: nothing is
/// copied until tensors are made from them.
Result<CheckpointContents> read_checkpoint(const std::filesystem::path& path,
                                           std::uint64_t max_bytes = kDefaultMaxCheckpointBytes);

/// Parses a safetensors file: an 8-byte header length, a JSON header of
/// {name: {dtype, shape, data_offsets}}, then the data. Offsets are checked
/// (inside the data, no two tensors overlapping); tensors come in the order
/// of their offsets.
Result<std::vector<NamedTensor>> parse_safetensors(std::string_view bytes);

}  // namespace ferry::models
