#include "agent/engines/loop/loop_analysis.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "agent/engines/loop/analysis_signal.hpp"
#include "agent/engines/loop/beats.hpp"
#include "agent/engines/loop/chroma.hpp"
#include "agent/engines/loop/loop_search.hpp"
#include "agent/engines/loop/loudness.hpp"
#include "agent/engines/loop/onset.hpp"
#include "agent/engines/loop/seam.hpp"
#include "agent/engines/loop/tempo.hpp"

namespace ferry::agent::loop {

namespace {

// Below this peak level (-120 dBFS) the input is treated as silence.
constexpr float kSilencePeak = 1e-6f;
// Too few beats leave nothing to compare.
constexpr std::size_t kMinBeats = 4;
// How far the end of the loop may move to line its waveform up with the
// start, and how far a loop point may move to reach a zero crossing: small
// enough to stay on the beat, large enough to reach a low note's cycle.
constexpr double kAlignSeconds = 0.004;
constexpr double kZeroCrossingSeconds = 0.0015;
// The fallback's end may move earlier by up to one cycle of a 50 Hz tone so
// that sustained tones meet in phase in the middle of its crossfade, judged
// over about 46 ms there.
constexpr double kFallbackAlignSeconds = 0.02;
constexpr std::int64_t kFallbackComparisonFrames = 2048;

Status validate(const float* interleaved, std::int64_t frames, int channels, int sample_rate,
                const LoopOptions& options) {
  if (frames <= 0) return fail(ErrorCode::invalid_argument, "the input has no audio frames; give a non-empty input", "frames");
  if (channels <= 0) return fail(ErrorCode::invalid_argument, fmt::format("channel count must be at least 1, got {}", channels), "channels");
  if (sample_rate <= 0) return fail(ErrorCode::invalid_argument, fmt::format("sample rate must be positive, got {}", sample_rate), "sample_rate");
  if (interleaved == nullptr) return fail(ErrorCode::invalid_argument, "no sample buffer was given", "interleaved");
  auto within = [](double value, double low, double high) { return std::isfinite(value) && value >= low && value <= high; };
  if (!within(options.min_loop_fraction, 0.0, 0.95))
    return fail(ErrorCode::invalid_argument, "min_loop_fraction must be between 0 and 0.95", "min_loop_fraction");
  if (!within(options.seam_crossfade_seconds, 0.0, 10.0))
    return fail(ErrorCode::invalid_argument, "seam_crossfade_seconds must be between 0 and 10", "seam_crossfade_seconds");
  if (!within(options.fallback_crossfade_seconds, 0.0, 60.0))
    return fail(ErrorCode::invalid_argument, "fallback_crossfade_seconds must be between 0 and 60", "fallback_crossfade_seconds");
  if (!within(options.fallback_crossfade_max_fraction, 0.0, 0.5))
    return fail(ErrorCode::invalid_argument, "fallback_crossfade_max_fraction must be between 0 and 0.5", "fallback_crossfade_max_fraction");
  if (!within(options.min_input_seconds, 0.0, 3600.0))
    return fail(ErrorCode::invalid_argument, "min_input_seconds must be between 0 and 3600", "min_input_seconds");
  if (!within(options.min_tempo_confidence, 0.0, 1.0))
    return fail(ErrorCode::invalid_argument, "min_tempo_confidence must be between 0 and 1", "min_tempo_confidence");
  if (!within(options.min_seam_similarity, 0.0, 1.0))
    return fail(ErrorCode::invalid_argument, "min_seam_similarity must be between 0 and 1", "min_seam_similarity");
  if (!within(options.linear_crossfade_correlation, -1.0, 1.0))
    return fail(ErrorCode::invalid_argument, "linear_crossfade_correlation must be between -1 and 1",
                "linear_crossfade_correlation");
  if (!(options.min_bpm > 0 && options.max_bpm > options.min_bpm && options.max_bpm <= 1000))
    return fail(ErrorCode::invalid_argument, "the tempo range needs 0 < min_bpm < max_bpm <= 1000", "min_bpm");
  return {};
}

std::int64_t seconds_to_frames(double seconds, int sample_rate) {
  return std::int64_t(std::llround(seconds * sample_rate));
}

// The whole track, its end crossfaded into its start.
void use_whole_track(LoopAnalysis& analysis, const MonoView& mono, const LoopOptions& options,
                     std::string reason) {
  const std::int64_t frames = analysis.input_frames;
  const std::int64_t wanted = seconds_to_frames(options.fallback_crossfade_seconds, analysis.sample_rate);
  const auto cap = std::int64_t(std::floor(options.fallback_crossfade_max_fraction * double(frames)));
  const std::int64_t length = std::min(wanted, cap);
  analysis.loop_start = length;
  const std::int64_t compared = std::min(kFallbackComparisonFrames, length);
  const ComparisonWindow middle{-(length + compared) / 2, compared};
  // The loop must stay at least as long as its crossfade.
  const std::int64_t earliest = std::max(-seconds_to_frames(kFallbackAlignSeconds, analysis.sample_rate),
                                         2 * length - frames);
  analysis.loop_end = frames + best_end_shift(mono, length, frames, middle, std::min<std::int64_t>(earliest, 0), 0);
  analysis.crossfade = fit_crossfade(length, analysis.loop_start, analysis.loop_end, frames);
  analysis.seam_correlation = seam_correlation(mono, analysis.loop_start, analysis.loop_end, analysis.crossfade);
  analysis.curve = analysis.seam_correlation >= options.linear_crossfade_correlation ? CrossfadeCurve::linear
                                                                                       : CrossfadeCurve::equal_power;
  analysis.seam_similarity = 0;
  analysis.fallback = true;
  analysis.fallback_reason = std::move(reason);
}

// Places the seam between two beats to the sample: lines the end up with the
// start, snaps both to matching zero crossings and picks the curve.
void place_seam(LoopAnalysis& analysis, const MonoView& mono, std::int64_t start, std::int64_t end,
                const LoopOptions& options) {
  const std::int64_t frames = analysis.input_frames;
  const int rate = analysis.sample_rate;
  const std::int64_t crossfade = seconds_to_frames(options.seam_crossfade_seconds, rate);
  const CrossfadeWindow rough = fit_crossfade(crossfade, start, end, frames);
  const std::int64_t align = seconds_to_frames(kAlignSeconds, rate);
  end += best_end_shift(mono, start, end, ComparisonWindow{-rough.before, rough.length()}, -align, align);

  const std::int64_t reach = seconds_to_frames(kZeroCrossingSeconds, rate);
  const ZeroCrossing start_crossing = nearest_zero_crossing(mono, start, reach);
  // Move the end by as much as the start moved, then find a crossing of the
  // same slope there, so the two waveforms stay in step.
  const std::int64_t end_target = std::min(frames, end + (start_crossing.frame - start));
  const ZeroCrossing end_crossing = end_target >= frames
                                        ? ZeroCrossing{frames, Slope::flat}
                                        : nearest_zero_crossing(mono, end_target, reach, start_crossing.slope);
  analysis.loop_start = start_crossing.frame;
  analysis.loop_end = std::max(end_crossing.frame, analysis.loop_start + 1);
  analysis.crossfade = fit_crossfade(crossfade, analysis.loop_start, analysis.loop_end, frames);
  analysis.seam_correlation = seam_correlation(mono, analysis.loop_start, analysis.loop_end, analysis.crossfade);
  analysis.curve = analysis.seam_correlation >= options.linear_crossfade_correlation ? CrossfadeCurve::linear
                                                                                       : CrossfadeCurve::equal_power;
}

}  // namespace

Result<LoopAnalysis> analyse(const float* interleaved, std::int64_t frames, int channels, int sample_rate,
                             const LoopOptions& options) {
  if (auto valid = validate(interleaved, frames, channels, sample_rate, options); !valid) return fail(valid.error());

  LoopAnalysis analysis;
  analysis.input_frames = frames;
  analysis.sample_rate = sample_rate;
  const MonoView mono(interleaved, frames, channels);

  float peak = 0;
  for (std::int64_t i = 0; i < frames * channels; ++i) {
    if (!std::isfinite(interleaved[i]))
      return fail(ErrorCode::invalid_argument,
                  fmt::format("sample {} of the input is not a finite number; the decoded audio is corrupt", i),
                  "interleaved");
    peak = std::max(peak, std::abs(interleaved[i]));
  }
  if (!(peak > kSilencePeak)) {
    use_whole_track(analysis, mono, options, "the input is silent: no beat to loop on, the whole track is repeated");
    return analysis;
  }
  const double seconds = double(frames) / sample_rate;
  if (seconds < options.min_input_seconds) {
    use_whole_track(analysis, mono, options,
                    fmt::format("the input is only {:.2f} s long; a beat-aligned loop needs at least {:.1f} s, "
                                "so the whole track is repeated with a crossfade",
                                seconds, options.min_input_seconds));
    return analysis;
  }

  const AnalysisSignal signal = reduce_rate(mono, sample_rate);
  const OnsetEnvelope envelope = onset_envelope(signal.samples, signal.rate);
  analysis.onset_envelope = envelope.values;
  analysis.envelope_rate = envelope.frame_rate;
  const TempoEstimate tempo = estimate_tempo(envelope.values, envelope.frame_rate, options.min_bpm, options.max_bpm);
  analysis.tempo_bpm = tempo.bpm;
  analysis.tempo_confidence = tempo.confidence;
  if (tempo.bpm <= 0 || tempo.confidence < options.min_tempo_confidence) {
    use_whole_track(analysis, mono, options,
                    fmt::format("no steady beat was found (tempo confidence {:.2f}, needs {:.2f}), "
                                "so the whole track is repeated with a crossfade",
                                tempo.confidence, options.min_tempo_confidence));
    return analysis;
  }

  const std::vector<std::size_t> beat_frames = track_beats(envelope.values, tempo.period);
  const EnergyIndex energy(signal.samples);
  const std::vector<std::int64_t> beats = refine_beats_to_attacks(beat_frames, envelope, energy, signal.rate);
  for (std::int64_t beat : beats) analysis.beats.push_back(beat * signal.decimation);
  const double period = beat_period_from_positions(beats);
  if (beats.size() < kMinBeats || period <= 0) {
    use_whole_track(analysis, mono, options,
                    fmt::format("only {} beats were found, too few to compare; the whole track is repeated "
                                "with a crossfade",
                                beats.size()));
    return analysis;
  }
  analysis.tempo_bpm = 60.0 * signal.rate / period;

  const ChromaFrames chroma = chroma_frames(signal.samples, signal.rate);
  const BeatFeatures features = describe_beats(beats, period, chroma, energy);
  const auto track_length = std::int64_t(signal.samples.size());
  const auto min_loop_length = std::int64_t(std::ceil(options.min_loop_fraction * double(track_length)));
  const std::optional<LoopCandidate> best = find_best_loop(beats, features, min_loop_length, track_length);
  if (!best || best->similarity < options.min_seam_similarity) {
    use_whole_track(analysis, mono, options,
                    fmt::format("no two beats at least {:.0f}% of the track apart sound alike enough (best "
                                "similarity {:.2f}, needs {:.2f}); the whole track is repeated with a crossfade",
                                100 * options.min_loop_fraction, best ? best->similarity : 0.0,
                                options.min_seam_similarity));
    return analysis;
  }
  analysis.seam_similarity = best->similarity;
  place_seam(analysis, mono, analysis.beats[best->start_beat], analysis.beats[best->end_beat], options);
  return analysis;
}

}  // namespace ferry::agent::loop
