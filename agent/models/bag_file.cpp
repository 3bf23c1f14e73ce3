#include "agent/models/bag_file.hpp"

#include <yaml-cpp/yaml.h>

#include "common/files.hpp"

namespace ferry::models {

namespace {

Error bag_error(const std::string& origin, const std::string& what) {
  return Error{ErrorCode::invalid_argument, "bag file " + origin + ": " + what, origin};
}

}  // namespace

Result<BagSpec> parse_bag_yaml(std::string_view text, const std::string& origin) {
  BagSpec bag;
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsMap()) return fail(bag_error(origin, "expected a mapping with 'models' (and 'weights', 'segment')"));
    for (const auto& entry : root) {
      const auto key = entry.first.as<std::string>();
      if (key != "models" && key != "weights" && key != "segment") {
        return fail(bag_error(origin, "unknown key '" + key + "' (expected models, weights, segment)"));
      }
    }
    const YAML::Node models = root["models"];
    if (!models || !models.IsSequence() || models.size() == 0) {
      return fail(bag_error(origin, "'models' must be a non-empty list of model names"));
    }
    for (const auto& model : models) bag.models.push_back(model.as<std::string>());
    if (const YAML::Node weights = root["weights"]; weights && !weights.IsNull()) {
      if (!weights.IsSequence() || weights.size() != bag.models.size()) {
        return fail(bag_error(origin, "'weights' needs one row per model (" + std::to_string(bag.models.size()) + ")"));
      }
      for (const auto& row : weights) {
        if (!row.IsSequence() || row.size() == 0) return fail(bag_error(origin, "each row of 'weights' is a list of numbers"));
        std::vector<double> values;
        for (const auto& value : row) values.push_back(value.as<double>());
        if (!bag.weights.empty() && values.size() != bag.weights.front().size()) {
          return fail(bag_error(origin, "the rows of 'weights' differ in length"));
        }
        bag.weights.push_back(std::move(values));
      }
    }
    if (const YAML::Node segment = root["segment"]; segment && !segment.IsNull()) {
      bag.segment_seconds = segment.as<double>();
      if (!(*bag.segment_seconds > 0)) return fail(bag_error(origin, "'segment' must be a positive number of seconds"));
    }
  } catch (const YAML::Exception& error) {
    return fail(bag_error(origin, error.what()));
  }
  return bag;
}

Result<BagSpec> read_bag_file(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return fail(text.error());
  return parse_bag_yaml(*text, path.string());
}

Result<std::filesystem::path> resolve_bag_member(const std::filesystem::path& dir, const std::string& model) {
  if (!is_safe_name(model)) {
    return fail(ErrorCode::invalid_argument, "bag member '" + model + "' is not a plain file name", model);
  }
  const auto local = dir / (model + ".th");
  if (std::filesystem::exists(local)) return local;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const auto name = entry.path().filename().string();
    if (name.size() > model.size() + 4 && name.rfind(model + "-", 0) == 0 && entry.path().extension() == ".th") {
      return entry.path();
    }
  }
  return fail(ErrorCode::not_found,
              "bag member '" + model + "' not found in " + dir.string() + " (expected " + model + ".th or " + model +
                  "-<checksum>.th; `ferry-agent models fetch NAME` downloads official models)",
              model);
}

}  // namespace ferry::models
