#include "agent/models/bag_loader.hpp"

#include "agent/models/bag_file.hpp"
#include "agent/models/torchaudio_hdemucs.hpp"

namespace ferry::models {

namespace {

Result<std::unique_ptr<DemucsNetwork>> load_network(const std::filesystem::path& path, const LoadOptions& options) {
  if (!std::filesystem::exists(path)) {
    return fail(ErrorCode::not_found, "no checkpoint at '" + path.string() + "'", path.string());
  }
  auto checkpoint = load_demucs_checkpoint(path, options);
  if (checkpoint) return DemucsNetwork::create(*checkpoint);
  // Not a Demucs package: perhaps torchaudio's plain HDemucs state dict.
  auto state = load_state_dict(path, options);
  if (!state || !is_torchaudio_hdemucs(*state)) return fail(checkpoint.error());
  auto converted = from_torchaudio_hdemucs(std::move(*state));
  if (!converted) return fail(converted.error());
  return DemucsNetwork::create(*converted);
}

Status add_member(LoadedModel& model, std::unique_ptr<DemucsNetwork> network, std::vector<double> weights,
                  std::optional<std::int64_t> segment_samples, const std::string& what) {
  if (model.networks.empty()) {
    model.sources = network->sources();
    model.samplerate = network->samplerate();
    model.audio_channels = network->audio_channels();
  } else if (network->sources() != model.sources || network->samplerate() != model.samplerate ||
             network->audio_channels() != model.audio_channels) {
    return fail(ErrorCode::invalid_argument,
                what + ": all models of a bag must have the same sources, sample rate and channels");
  }
  if (!weights.empty() && weights.size() != model.sources.size()) {
    return fail(ErrorCode::invalid_argument, what + ": a row of weights has " + std::to_string(weights.size()) +
                                                 " values for " + std::to_string(model.sources.size()) + " sources");
  }
  model.members.push_back(BagMember{network.get(), std::move(weights), segment_samples});
  model.networks.push_back(std::move(network));
  return {};
}

Result<LoadedModel> load_bag_in(const BagSpec& bag, const std::filesystem::path& dir, const std::string& origin,
                                const LoadOptions& options) {
  LoadedModel model;
  for (std::size_t i = 0; i < bag.models.size(); ++i) {
    auto path = resolve_bag_member(dir, bag.models[i]);
    if (!path) return fail(path.error());
    auto network = load_network(*path, options);
    if (!network) return fail(network.error());
    std::optional<std::int64_t> segment;
    if (bag.segment_seconds) segment = static_cast<std::int64_t>(*bag.segment_seconds * (*network)->samplerate());
    auto weights = bag.weights.empty() ? std::vector<double>{} : bag.weights[i];
    if (auto added = add_member(model, std::move(*network), std::move(weights), segment, origin); !added) {
      return fail(added.error());
    }
  }
  return model;
}

}  // namespace

Result<LoadedModel> load_checkpoint_model(const std::filesystem::path& checkpoint, const LoadOptions& options) {
  auto network = load_network(checkpoint, options);
  if (!network) return fail(network.error());
  LoadedModel model;
  if (auto added = add_member(model, std::move(*network), {}, std::nullopt, checkpoint.string()); !added) {
    return fail(added.error());
  }
  return model;
}

Result<LoadedModel> load_bag_model(const std::filesystem::path& bag_yaml, const LoadOptions& options) {
  auto bag = read_bag_file(bag_yaml);
  if (!bag) return fail(bag.error());
  return load_bag_in(*bag, bag_yaml.parent_path(), bag_yaml.string(), options);
}

Result<LoadedModel> load_registry_model(const RegistryModel& model, const std::filesystem::path& models_dir,
                                        const LoadOptions& options) {
  if (model.layout == ModelLayout::acestep_folder) {
    return fail(ErrorCode::invalid_argument,
                "model '" + model.name + "' makes music from text and cannot separate; use it in a generate job, or "
                "pick a separation model such as htdemucs",
                "model");
  }
  for (const auto& file : model.files) {
    if (!std::filesystem::exists(models_dir / file.name)) {
      return fail(ErrorCode::not_found,
                  "model '" + model.name + "' is not in " + models_dir.string() + " (missing " + file.name +
                      "); run `ferry-agent models fetch " + model.name + "` or download " + file.url + " there",
                  "model");
    }
  }
  if (model.layout == ModelLayout::torchaudio_hdemucs) {
    return load_checkpoint_model(models_dir / model.files.front().name, options);
  }
  auto bag = parse_bag_yaml(model.bag_yaml, model.name + ".yaml");
  if (!bag) return fail(bag.error());
  return load_bag_in(*bag, models_dir, model.name, options);
}

}  // namespace ferry::models
