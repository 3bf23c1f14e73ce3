#pragma once
// The loop engine around the DSP core: decode a track whole, find its loop
// points, and stream an output of an exact length to the encoder block by
// block, so memory stays at the input plus one block whatever the length.
// `run_loop` (engine.hpp) names the output after the input; the function
// here writes to a path the caller chooses (`ferry-agent loop`, the bench).

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/engines/engine.hpp"
#include "agent/engines/loop/loop_analysis.hpp"
#include "agent/engines/loop/render_plan.hpp"
#include "common/error.hpp"
#include "config/job_spec.hpp"

namespace ferry::agent {

/// Longest input a loop job accepts: the whole track is held in memory.
inline constexpr double kMaxLoopInputSeconds = 20.0 * 60.0;
/// Fade-out when the job sets none: this long, but at most
/// kDefaultFadeOutFraction of the output.
inline constexpr double kDefaultFadeOutSeconds = 5.0;
inline constexpr double kDefaultFadeOutFraction = 0.1;

/// The fade-out a loop gets: the one asked for, else the default above.
double loop_fade_out_s(const config::LoopParams& params);

/// What a loop render found and did; the job's `result`.
struct LoopSummary {
  double tempo_bpm = 0;         ///< 0 when no tempo was measured
  double tempo_confidence = 0;  ///< 0..1
  double loop_start_s = 0;      ///< the loop repeats [loop_start_s, loop_end_s) of the input
  double loop_end_s = 0;
  double crossfade_s = 0;       ///< length of each seam's crossfade
  std::string curve;            ///< "linear" or "equal_power"
  double seam_similarity = 0;   ///< 0..1, 0 for the fallback
  bool fallback = false;        ///< true: the whole track is crossfaded end to start
  std::string fallback_reason;  ///< why, in words; empty unless fallback
  std::int64_t seams = 0;       ///< crossfaded jumps in the output
  double fade_in_s = 0;
  double fade_out_s = 0;
  int sample_rate = 0;
  int channels = 0;
  std::int64_t output_frames = 0;
  double duration_s = 0;        ///< output_frames / sample_rate

  nlohmann::json to_json() const;
};

/// The summary of `plan`, made from `analysis` of an input at `sample_rate`.
LoopSummary summarise_loop(const loop::LoopAnalysis& analysis, const loop::RenderPlan& plan, int sample_rate,
                           int channels);

/// Frames of `seconds` at `sample_rate`, rounded to the nearest frame.
std::int64_t seconds_to_frames(double seconds, int sample_rate);

/// "<stem of input name>_loop.<extension of format>".
std::string loop_output_name(const std::string& input_name, config::AudioFormat format);

/// Decodes `input`, analyses it and writes the loop to `output` (created
/// under a temporary name and renamed into place only when complete; a
/// failed or cancelled render leaves nothing under `output`). Reports
/// Progress{"analyse"} then Progress{"loop", seconds written, seconds in all}.
/// Errors: invalid_argument (bad params, an input over kMaxLoopInputSeconds
/// or without audio), the decoder's and encoder's errors, cancelled.
Result<LoopSummary> render_loop_file(const config::LoopParams& params, const LocalInput& input,
                                     const std::filesystem::path& output, EngineContext& context);

}  // namespace ferry::agent
