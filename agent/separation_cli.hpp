#pragma once
// `ferry-agent separate` (one-shot separation with the server's engine) and
// `ferry-agent models list|fetch NAME` (the models folder).
//
// Exit statuses: 0 done, 1 the work failed (unreadable input, download
// failed, no model), 2 bad arguments, 130 interrupted (nothing is left
// under an output's name).

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace ferry::agent::cli {

/// Registers the `separate` and `models` subcommands on `app`; after
/// parsing, run() executes whichever of them was given.
class SeparationCommands {
 public:
  explicit SeparationCommands(CLI::App& app);
  SeparationCommands(const SeparationCommands&) = delete;
  SeparationCommands& operator=(const SeparationCommands&) = delete;

  /// The exit status of the parsed command, or nullopt when none of these was parsed.
  std::optional<int> run() const;

 private:
  struct SeparateFlags {
    std::string input;
    std::string output;
    std::string model;
    std::string checkpoint;
    std::string bag;
    std::string stems;
    std::string format = "wav";
    double overlap = 0.25;
    int shifts = 1;
    std::string device = "auto";
    bool mono = false;
    int bitrate_kbps = 0;
    unsigned long long seed = 0;
    int batch = 0;
    std::string models_dir;
  };

  int separate() const;
  int list() const;
  int fetch() const;

  CLI::App* separate_command_ = nullptr;
  CLI::App* models_command_ = nullptr;
  CLI::App* list_command_ = nullptr;
  CLI::App* fetch_command_ = nullptr;
  SeparateFlags flags_;
  std::string models_dir_;
  std::string fetch_name_;
};

}  // namespace ferry::agent::cli
