#pragma once
// `ferry-agent models list` and `ferry-agent models fetch NAME`: what is in
// the models folder, and getting a registry model into it.

#include <filesystem>
#include <ostream>
#include <string>

#include "agent/models/model_fetch.hpp"
#include "common/error.hpp"

namespace ferry::models {

/// Writes one block per registry model to `out`: its overall state, size,
/// licence and every file with its own state (hashing what is present).
Status list_models(const std::filesystem::path& models_dir, std::ostream& out);

/// Fetches the model `name` into `models_dir`, reporting progress lines on
/// `log` at most every 5% per file.
Status fetch_model_by_name(const std::string& name, const std::filesystem::path& models_dir, std::ostream& log,
                           FetchOptions options = {});

}  // namespace ferry::models
