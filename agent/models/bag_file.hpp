#pragma once
// Demucs' bag-of-models description (demucs/remote/<name>.yaml): which model
// files to blend, with which per-source weights, and an optional longer
// segment for v3 models. Plain data; loading the networks is bag_loader's.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace ferry::models {

/// The contents of a bag YAML.
struct BagSpec {
  std::vector<std::string> models;  ///< signatures or file stems, in order
  /// One row per model, one weight per source; empty: 1 everywhere.
  std::vector<std::vector<double>> weights;
  std::optional<double> segment_seconds;  ///< Demucs' `segment` (applies to v3 models only)
};

/// Parses bag YAML text; `origin` names it in errors (a file path).
Result<BagSpec> parse_bag_yaml(std::string_view text, const std::string& origin);

/// Reads and parses a bag file.
Result<BagSpec> read_bag_file(const std::filesystem::path& path);

/// The checkpoint a bag names `model`, in `dir`: "<model>.th" (local bags),
/// else Demucs' "<model>-<checksum>.th" (downloaded official files).
Result<std::filesystem::path> resolve_bag_member(const std::filesystem::path& dir, const std::string& model);

}  // namespace ferry::models
