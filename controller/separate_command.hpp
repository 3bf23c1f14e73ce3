#pragma once
// `ferry separate FILE... [--model NAME] [--stems LIST] [--provider NAME] [-o DIR]`:
// a one-job manifest built from the command line, run like `ferry run`.

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "config/manifest.hpp"
#include "controller/exit_codes.hpp"

namespace ferry::controller {

struct SeparateCommandOptions {
  std::vector<std::string> files;   ///< local paths or http(s) URLs
  std::string model;                ///< empty: the agent's default
  std::vector<std::string> stems;   ///< empty: every stem of the model
  std::string format;               ///< empty: wav
  std::string provider = "local";
  std::filesystem::path output = "separated";
  bool keep = false;
  bool yes = false;
  bool json = false;
};

/// The manifest `ferry separate` runs, as YAML: inputs and output made
/// absolute against `cwd`; one GPU asked for on cloud providers.
std::string separate_manifest_yaml(const SeparateCommandOptions& options, const std::filesystem::path& cwd);

/// Checks the generated manifest with the manifest's own rules (so a bad
/// stem or format is reported before anything starts).
Result<config::Manifest> separate_manifest(const SeparateCommandOptions& options, const std::filesystem::path& cwd);

/// Runs the command: data on `out`, progress and errors on `err`.
ExitCode run_separate_files(const SeparateCommandOptions& options, std::FILE* out = stdout, std::FILE* err = stderr);

}  // namespace ferry::controller
