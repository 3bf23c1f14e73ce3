#pragma once
// `ferry-agent generate`: one song (or a batch) with the server's ACE-Step
// engine, one shot. Prints the outputs and the seed as JSON on stdout.
//
// Exit statuses: 0 done, 1 the work failed (no model, unreadable lyrics),
// 2 bad arguments, 130 interrupted (nothing is left under an output's name).

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace ferry::agent::cli {

/// Registers the `generate` subcommand on `app`; after parsing, run()
/// executes it when it was given.
class GenerationCommand {
 public:
  explicit GenerationCommand(CLI::App& app);
  GenerationCommand(const GenerationCommand&) = delete;
  GenerationCommand& operator=(const GenerationCommand&) = delete;

  /// The exit status when `generate` was parsed, else nullopt.
  std::optional<int> run() const;

 private:
  struct Flags {
    std::string models_dir;
    std::string caption;
    std::string lyrics_file;
    bool instrumental = false;
    std::string duration;
    std::optional<unsigned long long> seed;
    std::optional<int> bpm;
    std::string key;
    std::optional<int> time_signature;
    std::string language = "unknown";
    int batch = 1;
    int shift = 3;
    std::string sampler = "ode";
    std::optional<int> bitrate_kbps;
    std::string device = "auto";
    std::string output;
  };

  int generate() const;

  CLI::App* command_ = nullptr;
  Flags flags_;
};

}  // namespace ferry::agent::cli
