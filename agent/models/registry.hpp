#pragma once
// The pretrained models ferry knows by name (separation and generation), where their files
// are published and how to check them. Plain data: no LibTorch, no I/O.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace ferry::models {

/// One file of a model as published upstream.
struct ModelFile {
  /// Path in the models folder, e.g. "955717e8-8726e21a.th"; a model
  /// published as a folder keeps its layout ("ace-step-1.5/vae/config.json").
  std::string name;
  std::string url;   ///< official download address
  std::optional<std::uint64_t> size;  ///< bytes, when known
  /// Full lowercase hex SHA-256, or "" when only the prefix is known.
  std::string sha256;
  /// Leading hex digits of the SHA-256 that upstream itself publishes (Demucs
  /// puts the first 8 in the file name and checks them on load).
  std::string sha256_prefix;
};

/// How a model's files are turned into networks.
enum class ModelLayout {
  demucs_bag,          ///< official Demucs .th files blended as the bag YAML says
  torchaudio_hdemucs,  ///< one torchaudio HDemucs state dict
  acestep_folder,      ///< ACE-Step's published checkpoint folder (DiT, text encoder, VAE)
};

/// A model that `ferry-agent models fetch NAME` can download.
struct RegistryModel {
  std::string name;         ///< e.g. "htdemucs_ft"
  std::string description;  ///< one line for `models list`
  std::string licence;      ///< terms of the weights, as far as upstream states them
  ModelLayout layout = ModelLayout::demucs_bag;
  std::vector<std::string> sources;  ///< output stems in the model's order (separation models)
  std::vector<ModelFile> files;
  /// Demucs' own bag description (demucs/remote/<name>.yaml), written beside
  /// the files as <name>.yaml; empty for torchaudio's model.
  std::string bag_yaml;
};

/// Every model in the registry, in display order.
const std::vector<RegistryModel>& model_registry();

/// The folder, relative to the models folder, that holds ACE-Step 1.5's
/// published checkpoint layout (acestep-v15-turbo/, Qwen3-Embedding-0.6B/, vae/).
inline constexpr const char* kAceStepFolder = "ace-step-1.5";
/// The registry name of the generation model.
inline constexpr const char* kAceStepTurboModel = "acestep-v15-turbo";

/// The model called `name`, or not_found listing the known names.
Result<const RegistryModel*> find_model(std::string_view name);

/// The models folder: `flag` when given, else $FERRY_MODELS_DIR, else
/// $XDG_CACHE_HOME/ferry/models (~/.cache/ferry/models).
std::filesystem::path resolve_models_dir(const std::optional<std::filesystem::path>& flag);

/// True when `digest` (full lowercase hex) satisfies `file`: equal to its
/// full SHA-256 when known, else starting with its prefix.
bool digest_matches(const ModelFile& file, std::string_view digest);

}  // namespace ferry::models
