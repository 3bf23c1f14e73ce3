#pragma once
// Turns what a separation names (a checkpoint file, a bag YAML, or a
// registry model in the models folder) into loaded networks and the
// BagMember list the pipeline blends.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/models/checkpoint.hpp"
#include "agent/models/demucs_network.hpp"
#include "agent/models/registry.hpp"
#include "agent/models/separation.hpp"
#include "common/error.hpp"

namespace ferry::models {

/// Networks and how to blend them. `members` point into `networks`: move
/// the whole struct, never copy members out of it.
struct LoadedModel {
  std::vector<std::unique_ptr<DemucsNetwork>> networks;
  std::vector<BagMember> members;
  std::vector<std::string> sources;  ///< output stems, in order
  int samplerate = 44100;
  int audio_channels = 2;
};

/// One checkpoint: an official Demucs file (or safetensors with its
/// metadata) or torchaudio's HDemucs state dict.
Result<LoadedModel> load_checkpoint_model(const std::filesystem::path& checkpoint, const LoadOptions& options = {});

/// A bag YAML; its members are looked up beside it (bag_file.hpp).
Result<LoadedModel> load_bag_model(const std::filesystem::path& bag_yaml, const LoadOptions& options = {});

/// A registry model from `models_dir`; not_found (naming the fetch
/// command) when its files are not there.
Result<LoadedModel> load_registry_model(const RegistryModel& model, const std::filesystem::path& models_dir,
                                        const LoadOptions& options = {});

}  // namespace ferry::models
