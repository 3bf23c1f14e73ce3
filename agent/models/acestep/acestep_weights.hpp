#pragma once
// Reading an ACE-Step checkpoint folder (`config.json` + safetensors) and
// handing its tensors to the network builders with shape checks. Shared by
// the text encoder, the VAE, the condition encoder and the DiT, so that every
// mismatch between a config and its weights is reported the same way: which
// tensor, which file, what was expected.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <ATen/core/Tensor.h>

#include "agent/models/checkpoint.hpp"
#include "common/error.hpp"

namespace ferry::acestep {

/// A parsed `config.json`. Accessors fail with an invalid_argument error that
/// names the key and the file when a value is missing or of the wrong kind.
class ModelConfig {
 public:
  /// A required integer and the field it is read into.
  struct IntegerField {
    std::string_view key;
    std::int64_t* value;
  };

  /// Reads and parses `file`; not_found when it does not exist.
  static Result<ModelConfig> load(const std::filesystem::path& file);
  /// Parses JSON text; `source` names it in errors (a path, "built-in").
  static Result<ModelConfig> parse(std::string_view json_text, std::string source);

  /// Where the values came from, for messages.
  const std::string& source() const { return source_; }
  bool has(std::string_view key) const;
  /// Present and not null.
  bool has_value(std::string_view key) const;

  /// A required integer.
  Result<std::int64_t> integer(std::string_view key) const;
  /// An integer, or `fallback` when the key is absent (not when it is malformed).
  Result<std::int64_t> integer_or(std::string_view key, std::int64_t fallback) const;
  /// A required number (integers are accepted).
  Result<double> number(std::string_view key) const;
  Result<double> number_or(std::string_view key, double fallback) const;
  /// Reads required positive integers into their fields; the first one
  /// missing, malformed or not positive is the error.
  Status read_positive(std::initializer_list<IntegerField> fields) const;
  /// Fails unless `value` (read from `key`) is positive.
  Status check_positive(std::string_view key, std::int64_t value) const;
  /// A required non-empty list of integers.
  Result<std::vector<std::int64_t>> integers(std::string_view key) const;
  /// A boolean, or `fallback` when the key is absent.
  Result<bool> flag_or(std::string_view key, bool fallback) const;
  /// A required string; `text_or` has a fallback for an absent key.
  Result<std::string> text(std::string_view key) const;
  Result<std::string> text_or(std::string_view key, std::string fallback) const;
  /// A required list of strings (it may be empty).
  Result<std::vector<std::string>> texts(std::string_view key) const;

 private:
  struct Json;
  ModelConfig(std::shared_ptr<const Json> json, std::string source);
  Error bad_value(std::string_view key, std::string_view expected) const;
  std::shared_ptr<const Json> json_;
  std::string source_;
};

/// A model folder as published: its `config.json` and one weights file.
struct ModelFolder {
  ModelConfig config;
  models::StateDict weights;
  std::filesystem::path weights_file;
};

/// Loads `folder/config.json` and `folder/<weights_file_name>` (to the device
/// and dtype of `options`). Errors name the folder or file that is missing or
/// unreadable.
Result<ModelFolder> load_model_folder(const std::filesystem::path& folder, std::string_view weights_file_name,
                                      const models::LoadOptions& options = {});

/// Rejects float16: the networks overflow in it (activations of hundreds in
/// late layers). float32/float64 on CPU, bfloat16 on GPUs.
Status check_network_dtype(c10::ScalarType dtype, std::string_view network);

/// Makes a tensor of the given name and shape for a synthesised network.
using TensorMaker = std::function<at::Tensor(const std::string& name, at::IntArrayRef shape)>;

/// Random weights for synthesised networks, reproducible per `seed` (given the
/// order of requests), on the device and dtype of `options`: normalisation
/// scales and weight-norm magnitudes (`*norm*.weight`, `*.weight_g`) near 1,
/// biases and Snake `alpha`/`beta` near 0, everything else normal with
/// standard deviation 1/sqrt(fan-in), so activations stay in range at any depth.
TensorMaker random_weights(const models::LoadOptions& options, std::uint64_t seed);

/// Random weights that are all views of one shared buffer of normal values
/// with standard deviation `scale` (grown to the largest tensor asked for),
/// on the device and dtype of `options`: a full-size network in a fraction of
/// its memory, for smoke tests and timings where the values only need to
/// keep activations finite. Reproducible per `seed` and order of requests.
TensorMaker pooled_random_weights(const models::LoadOptions& options, std::uint64_t seed, double scale = 0.02);

/// Hands out a checkpoint's tensors by name with exact shapes and remembers
/// the first problem, so that a builder can ask for everything and then
/// report one clear error; `finish` also rejects tensors nobody asked for.
class WeightTable {
 public:
  /// Tensors of a loaded checkpoint; `source` (its file) is named in errors.
  WeightTable(const models::StateDict& state, std::string source);
  /// Synthesised tensors: `make` provides each one asked for (random-weight
  /// smoke tests and benchmarks of the full-size architectures).
  explicit WeightTable(TensorMaker make);

  /// The tensor `name` with exactly `shape`; an undefined tensor (and a
  /// recorded error) when it is missing or shaped differently.
  at::Tensor take(const std::string& name, const std::vector<std::int64_t>& shape);
  /// Whether the checkpoint holds `name` (always false for synthesised tables).
  bool contains(const std::string& name) const;
  /// Tensors under `prefix` are allowed to stay unused (e.g. the VAE's encoder).
  void ignore_prefix(std::string_view prefix);
  /// OK when every tensor was found with its shape and none was left over.
  Status finish() const;

 private:
  const models::StateDict* state_ = nullptr;
  TensorMaker make_;
  std::string source_;
  std::set<std::string> used_;
  std::vector<std::string> ignored_prefixes_;
  std::optional<Error> error_;
};

/// Runs `body` (a forward pass) under inference mode, turning LibTorch
/// exceptions into errors: resource_exhausted for out-of-memory, internal
/// otherwise. `what` names the pass in the message.
Result<at::Tensor> run_inference(std::string_view what, const std::function<at::Tensor()>& body);

}  // namespace ferry::acestep
