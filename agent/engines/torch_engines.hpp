#pragma once
// The LibTorch engines (separate, generate) live in a plugin,
// libferry-agent-torch.so, that ferry-agent loads the first time a job needs
// it. LibTorch's start-up (registering its operators) costs about a second
// of CPU and 60 MB per process; an agent that only converts or loops, or
// that sits idle waiting for its first job, never pays it.
//
// Both sides are built together from this header, so the table carries C++
// types; its version and size guard against a plugin from another build.
// The plugin catches every exception: what crosses is a Result.

#include <filesystem>
#include <vector>

#include "agent/engines/compute.hpp"
#include "agent/engines/engine.hpp"
#include "agent/engines/generate_job.hpp"
#include "agent/engines/separate_job.hpp"
#include "common/error.hpp"

namespace ferry::agent {

/// Bumped whenever a signature in TorchEngines changes.
inline constexpr int kTorchEnginesVersion = 1;

/// The plugin's file name, looked up next to ferry-agent and in ../lib/ferry.
inline constexpr const char* kTorchEnginesFile = "libferry-agent-torch.so";

/// The plugin's exported entry point, `extern "C"`.
inline constexpr const char* kTorchEnginesSymbol = "ferry_torch_engines";

/// What the plugin offers: the engines' entry points, by pointer.
struct TorchEngines {
  int version = kTorchEnginesVersion;
  std::size_t size = sizeof(TorchEngines);
  Result<std::vector<OutputFile>> (*run_separate_job)(const config::SeparateParams&, const std::vector<LocalInput>&,
                                                      EngineContext&) = nullptr;
  Result<std::vector<OutputFile>> (*run_generate_job)(const config::GenerateParams&, EngineContext&) = nullptr;
  Result<std::vector<OutputFile>> (*run_separate)(const SeparateOptions&, const std::vector<LocalInput>&,
                                                  EngineContext&) = nullptr;
  Result<std::vector<OutputFile>> (*run_generate)(const GenerateOptions&, EngineContext&) = nullptr;
  Status (*validate_separate_options)(const SeparateOptions&) = nullptr;
  ComputeInfo (*configure_compute)(int threads) = nullptr;
};

using TorchEnginesEntry = const TorchEngines* (*)();

/// Where the plugin is for the running executable: the first of
/// <exe dir>/libferry-agent-torch.so and <exe dir>/../lib/ferry/... that
/// exists, else nullopt.
std::optional<std::filesystem::path> find_torch_engines();

/// Loads the plugin once per process (later calls return the same table or
/// the same error) and gives LibTorch every core. Unsupported, naming the
/// file and the loader's reason, when it is missing or does not load.
Result<const TorchEngines*> load_torch_engines();

}  // namespace ferry::agent
