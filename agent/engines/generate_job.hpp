#pragma once
// The generate engine: ACE-Step 1.5 turbo from its published checkpoint
// folder. One song (or a batch of songs from consecutive seeds) per job:
// prompts assembled and tokenized as upstream does, the Qwen3 text encoder,
// the condition encoder, eight DiT steps, the Oobleck VAE in tiles, peak
// normalisation to -1 dBFS and the audio writer at 48 kHz stereo.
//
// One network is in memory at a time (text encoder, then DiT, then VAE):
// the full-size DiT alone is 9.6 GB in float32, so a CPU machine with 16 GB
// can still generate.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/engines/engine.hpp"
#include "common/error.hpp"
#include "config/job_spec.hpp"

namespace ferry::agent {

/// What a generation asks for beyond the job's parameters.
struct GenerateOptions {
  config::GenerateParams params;
  /// Holds the published layout: acestep-v15-turbo/, Qwen3-Embedding-0.6B/, vae/.
  std::filesystem::path checkpoint_dir;
  std::string device = "auto";  ///< auto | cpu | cuda
  /// VAE tiles in latent frames (25 a second): memory is bounded by one tile.
  std::int64_t decode_tile_frames = 1024;
  std::int64_t decode_overlap_frames = 64;
};

/// The output file names: "<stem>.<ext>" for one song, "<stem>-<n>.<ext>"
/// (n from 1) for a batch, the stem from config::generate_output_stem.
std::vector<std::string> generate_output_names(const config::GenerateParams& params);

/// The seed of the first song: the job's, or a fresh random one (reported
/// in the job's result, so any song can be made again).
std::uint64_t choose_seed(const config::GenerateParams& params);

/// Runs a generation. Progress stages: "encode" (0/1), "sample" (steps of
/// 8), "decode" (VAE tiles), "write" (songs). context.result gets the seeds,
/// the device and number type, and the older API's fields that turbo
/// ignores. On cancel or failure nothing is left under a final name.
Result<std::vector<OutputFile>> run_generate(const GenerateOptions& options, EngineContext& context);

}  // namespace ferry::agent
