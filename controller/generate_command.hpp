#pragma once
// `ferry generate --caption TEXT --duration 3m [--lyrics FILE] ...`: a
// one-job manifest built from the command line, run like `ferry run`.

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "config/manifest.hpp"
#include "controller/exit_codes.hpp"

namespace ferry::controller {

struct GenerateCommandOptions {
  std::string caption;
  std::filesystem::path lyrics_file;  ///< empty: no lyrics
  bool instrumental = false;
  std::string duration;               ///< "3m", "45s"
  std::optional<long long> seed;
  std::optional<int> bpm;
  std::string key;
  std::optional<int> time_signature;
  std::string language;
  std::optional<int> batch;
  std::string format;                 ///< empty: wav
  std::string name;                   ///< output file stem; empty: from the caption
  std::string provider = "local";
  std::filesystem::path output = "generated";
  bool keep = false;
  bool yes = false;
  bool json = false;
};

/// The manifest `ferry generate` runs, as YAML, with `lyrics` already read
/// from the lyrics file; one GPU asked for on cloud providers.
std::string generate_manifest_yaml(const GenerateCommandOptions& options, const std::string& lyrics,
                                   const std::filesystem::path& cwd);

/// Reads the lyrics file and checks the manifest with the manifest's own
/// rules, so a bad duration or key is reported before anything starts.
/// Returns the manifest's YAML.
Result<std::string> generate_manifest(const GenerateCommandOptions& options, const std::filesystem::path& cwd);

/// Runs the command: data on `out`, progress and errors on `err`.
ExitCode run_generate_command(const GenerateCommandOptions& options, std::FILE* out = stdout,
                              std::FILE* err = stderr);

}  // namespace ferry::controller
