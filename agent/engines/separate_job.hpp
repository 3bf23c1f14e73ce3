#pragma once
// The separate engine: each input decoded once to a float file in the
// scratch folder (so memory stays bounded whatever its length), separated
// by a Demucs model or bag, and written as one file per requested stem.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/engines/engine.hpp"
#include "common/error.hpp"
#include "config/job_spec.hpp"

namespace ferry::agent {

/// What a separation job asks for. Exactly one of `model`, `checkpoint`
/// and `bag` names the weights.
struct SeparateOptions {
  std::string model;                              ///< registry name, looked up in models_dir
  std::optional<std::filesystem::path> checkpoint;  ///< one .th / .safetensors / torchaudio .pt file
  std::optional<std::filesystem::path> bag;         ///< a bag YAML with its members beside it
  std::filesystem::path models_dir;               ///< where registry models live
  /// Stems to write, in order: the model's source names, or "instrumental"
  /// (every source but vocals, summed). Empty: every source of the model.
  std::vector<std::string> stems;
  config::AudioFormat format = config::AudioFormat::wav;
  bool mono = false;
  std::optional<int> bitrate_kbps;  ///< MP3 only
  int shifts = 1;                   ///< random time shifts averaged (Demucs' default 1; 0: none)
  double overlap = 0.25;
  std::uint64_t seed = 0;
  std::optional<int> batch;         ///< chunks per forward pass; default 1 on CPU, 4 on CUDA
  std::string device = "auto";      ///< auto | cpu | cuda
};

/// "instrumental": the stem that sums every source but vocals.
inline constexpr const char* kInstrumentalStem = "instrumental";

/// Checks options that need no model: one weight source, overlap in
/// [0, 1), shifts in [0, 20], a known device, and distinct stem names.
Status validate_separate_options(const SeparateOptions& options);

/// Runs a separation job. Outputs are named "<input stem>_<stem>.<ext>";
/// progress is reported as stage "separate" in chunks; on cancel or failure
/// nothing is left under a final name.
Result<std::vector<OutputFile>> run_separate(const SeparateOptions& options, const std::vector<LocalInput>& inputs,
                                             EngineContext& context);

}  // namespace ferry::agent
