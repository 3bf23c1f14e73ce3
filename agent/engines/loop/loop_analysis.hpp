#pragma once
// Finding loop points: where a track can jump from a later point back to an
// earlier one without the listener noticing. Points sit on the beat grid
// (onset envelope + tempo), are scored by how alike the harmony (chroma) and
// loudness are around them, aligned to the sample and snapped to zero
// crossings. When no such pair exists the whole track is looped with a long
// crossfade instead, and the analysis says why.
//
// Pure functions over float buffers: no files, no codecs, no threads.

#include <cstdint>
#include <string>
#include <vector>

#include "agent/engines/loop/crossfade.hpp"
#include "common/error.hpp"

namespace ferry::agent::loop {

/// Tuning of the loop search. Defaults suit songs of a few minutes and still
/// work on inputs of a few seconds.
struct LoopOptions {
  /// Shortest loop as a fraction of the track (a short loop repeats audibly).
  double min_loop_fraction = 0.35;
  /// Crossfade at a beat-aligned seam.
  double seam_crossfade_seconds = 0.05;
  /// Crossfade of the fallback, which joins the track's end to its start...
  double fallback_crossfade_seconds = 3.0;
  /// ...but never more than this fraction of the track.
  double fallback_crossfade_max_fraction = 0.25;
  /// Inputs shorter than this get the fallback: too few beats to compare.
  double min_input_seconds = 2.0;
  /// Below this tempo confidence the beat is not steady enough to loop on.
  double min_tempo_confidence = 0.2;
  /// Below this similarity (0..1) of the material around the two loop
  /// points, a jump would be heard.
  double min_seam_similarity = 0.85;
  /// Tempo search range.
  double min_bpm = 40;
  double max_bpm = 240;
  /// Seam correlation from which material counts as near-identical and gets
  /// a linear crossfade instead of an equal-power one.
  double linear_crossfade_correlation = 0.5;
};

/// Everything the analysis found, in input frames at the input rate.
struct LoopAnalysis {
  std::int64_t input_frames = 0;
  int sample_rate = 0;

  /// Onset envelope (spectral flux) and its frame rate, for plots and checks.
  std::vector<float> onset_envelope;
  double envelope_rate = 0;
  /// Estimated tempo; 0 when none could be measured.
  double tempo_bpm = 0;
  /// 0..1: how clearly the onset envelope repeats at that tempo.
  double tempo_confidence = 0;
  /// Beat positions (input frames), ascending.
  std::vector<std::int64_t> beats;

  /// The loop: frames [loop_start, loop_end) repeat. Output starts with
  /// [0, loop_end), then [loop_start, loop_end) again and again.
  std::int64_t loop_start = 0;
  std::int64_t loop_end = 0;
  /// The crossfade at each jump and its curve.
  CrossfadeWindow crossfade;
  CrossfadeCurve curve = CrossfadeCurve::equal_power;
  /// 0..1: similarity of harmony and loudness around the two loop points
  /// (1 = indistinguishable); 0 for the fallback.
  double seam_similarity = 0;
  /// -1..1: waveform correlation across the crossfade window.
  double seam_correlation = 0;

  /// True when no good beat-aligned loop exists and the whole track is
  /// looped with a long crossfade; `fallback_reason` says why, in words.
  bool fallback = false;
  std::string fallback_reason;

  std::int64_t loop_frames() const { return loop_end - loop_start; }
};

/// Analyses `frames` frames of interleaved float audio. Fails only on
/// malformed arguments (no data, no frames, no channels, bad rate or options);
/// any audio, silence included, gets a loop.
Result<LoopAnalysis> analyse(const float* interleaved, std::int64_t frames, int channels, int sample_rate,
                             const LoopOptions& options = {});

}  // namespace ferry::agent::loop
