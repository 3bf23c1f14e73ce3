// The loop engine: decode whole, analyse, then render and encode block by
// block. Only the input and one block are ever in memory.

#include "agent/engines/loop_job.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "agent/audio/decoder.hpp"
#include "agent/audio/encoder.hpp"
#include "agent/engines/convert_plan.hpp"
#include "agent/engines/loop/loop_renderer.hpp"
#include "config/job_rules.hpp"
#include "config/units.hpp"

namespace ferry::agent {

namespace {

// Frames per block: a few milliseconds of work, so progress and cancel are
// prompt, while the per-block overhead stays negligible.
constexpr std::int64_t kBlockFrames = 8192;
// Progress reports at most this often: a render runs hundreds of times
// faster than real time, and each report takes the job table's lock.
constexpr auto kReportInterval = std::chrono::milliseconds(100);

constexpr config::rules::LoopFieldNames kParamNames{
    .duration = "params.duration_s",
    .format = "params.format",
    .crossfade = "params.crossfade_s",
    .fade_in = "params.fade_in_s",
    .fade_out = "params.fade_out_s",
    .sample_rate = "params.sample_rate",
    .bitrate = "params.bitrate_kbps",
};

Error cancelled_error() { return Error{ErrorCode::cancelled, "the loop was cancelled", {}}; }

std::string duration_text(double seconds) {
  return config::format_duration(std::chrono::milliseconds(std::llround(seconds * 1000.0)));
}

Status check_params(const config::LoopParams& params) {
  if (auto problem = config::rules::find_loop_problem(params, kParamNames)) {
    std::string field(config::rules::field_name(problem->field, kParamNames));
    return fail(ErrorCode::invalid_argument, field + ": " + problem->message, field);
  }
  return {};
}

Error about_input(Error error) {
  error.field = "inputs[0]";
  return error;
}

Error input_too_long(const std::string& name, double seconds) {
  return Error{ErrorCode::invalid_argument,
               fmt::format("'{}' is {} long; a loop input may be at most {}: cut the part to loop first (for "
                           "example with a convert job and `segment: 20m`)",
                           name, duration_text(seconds), duration_text(kMaxLoopInputSeconds)),
               "inputs[0]"};
}

// The whole input at the rate and channel count the output format can store.
Result<audio::DecodedAudio> decode_input(const config::LoopParams& params, const LocalInput& input) {
  audio::DecodeOptions options;
  options.display_name = input.name;
  auto probed = audio::AudioDecoder::open(input.path, options);
  if (!probed) return fail(about_input(probed.error()));
  const audio::SourceInfo source = probed->info();
  if (source.duration_s && *source.duration_s > kMaxLoopInputSeconds + 1.0)
    return fail(input_too_long(input.name, *source.duration_s));

  options.sample_rate =
      params.sample_rate.value_or(audio::nearest_supported_sample_rate(params.format, source.sample_rate));
  options.channels = std::min(source.channels, audio::max_channels(params.format));
  // A container that states no length is caught here: one second past the
  // limit is enough to know.
  options.max_duration_s = kMaxLoopInputSeconds + 1.0;
  auto decoded = audio::decode_all(input.path, options);
  if (!decoded) return fail(about_input(decoded.error()));
  const double seconds = static_cast<double>(decoded->frames()) / decoded->sample_rate;
  if (seconds > kMaxLoopInputSeconds) return fail(input_too_long(input.name, seconds));
  if (decoded->frames() == 0)
    return fail(ErrorCode::invalid_argument, "'" + input.name + "' contains no audio samples", "inputs[0]");
  return decoded;
}

// Reports progress at most every kReportInterval, and always the last block.
class ProgressThrottle {
 public:
  explicit ProgressThrottle(EngineContext& context) : context_(context) {}
  void report(double done_s, double total_s, bool last) {
    auto now = std::chrono::steady_clock::now();
    if (!last && now - last_report_ < kReportInterval) return;
    last_report_ = now;
    context_.report(Progress{"loop", done_s, total_s});
  }

 private:
  EngineContext& context_;
  std::chrono::steady_clock::time_point last_report_{};
};

}  // namespace

double loop_fade_out_s(const config::LoopParams& params) {
  if (params.fade_out_s) return *params.fade_out_s;
  // Room is left for the fade-in, so the default never breaks the fades rule.
  const double room = std::max(0.0, params.duration_s - params.fade_in_s);
  return std::min({kDefaultFadeOutSeconds, params.duration_s * kDefaultFadeOutFraction, room});
}

nlohmann::json LoopSummary::to_json() const {
  return {
      {"tempo_bpm", tempo_bpm},
      {"tempo_confidence", tempo_confidence},
      {"loop_start_s", loop_start_s},
      {"loop_end_s", loop_end_s},
      {"crossfade_s", crossfade_s},
      {"curve", curve},
      {"seam_similarity", seam_similarity},
      {"seams", seams},
      {"fallback", fallback},
      {"fallback_reason", fallback ? nlohmann::json(fallback_reason) : nlohmann::json(nullptr)},
      {"fade_in_s", fade_in_s},
      {"fade_out_s", fade_out_s},
      {"sample_rate", sample_rate},
      {"channels", channels},
      {"frames", output_frames},
      {"duration_s", duration_s},
  };
}

LoopSummary summarise_loop(const loop::LoopAnalysis& analysis, const loop::RenderPlan& plan, int sample_rate,
                           int channels) {
  const double rate = static_cast<double>(sample_rate);
  LoopSummary summary;
  summary.tempo_bpm = analysis.tempo_bpm;
  summary.tempo_confidence = analysis.tempo_confidence;
  summary.loop_start_s = static_cast<double>(plan.loop_start) / rate;
  summary.loop_end_s = static_cast<double>(plan.loop_end) / rate;
  summary.crossfade_s = plan.loops ? static_cast<double>(plan.crossfade.length()) / rate : 0.0;
  summary.curve = std::string(loop::to_string(plan.curve));
  summary.seam_similarity = analysis.seam_similarity;
  summary.fallback = analysis.fallback;
  summary.fallback_reason = analysis.fallback_reason;
  summary.seams = plan.loops ? plan.seam_count() : 0;
  summary.fade_in_s = static_cast<double>(plan.fade_in_frames) / rate;
  summary.fade_out_s = static_cast<double>(plan.fade_out_frames) / rate;
  summary.sample_rate = sample_rate;
  summary.channels = channels;
  summary.output_frames = plan.output_frames;
  summary.duration_s = static_cast<double>(plan.output_frames) / rate;
  return summary;
}

std::int64_t seconds_to_frames(double seconds, int sample_rate) {
  return static_cast<std::int64_t>(std::llround(seconds * static_cast<double>(sample_rate)));
}

std::string loop_output_name(const std::string& input_name, config::AudioFormat format) {
  return convert::safe_stem(input_name) + "_loop." + std::string(config::file_extension(format));
}

Result<LoopSummary> render_loop_file(const config::LoopParams& params, const LocalInput& input,
                                     const std::filesystem::path& output, EngineContext& context) {
  if (auto checked = check_params(params); !checked) return fail(checked.error());
  if (context.cancelled()) return fail(cancelled_error());

  context.report(Progress{"analyse", 0, 0});
  auto decoded = decode_input(params, input);
  if (!decoded) return fail(decoded.error());
  const int rate = decoded->sample_rate;
  const int channels = decoded->channels;
  const auto frames = static_cast<std::int64_t>(decoded->frames());
  if (context.cancelled()) return fail(cancelled_error());

  auto analysis = loop::analyse(decoded->samples.data(), frames, channels, rate);
  if (!analysis) return fail(analysis.error());
  if (context.cancelled()) return fail(cancelled_error());

  loop::RenderOptions options;
  options.fade_in_frames = seconds_to_frames(params.fade_in_s, rate);
  options.fade_out_frames = seconds_to_frames(loop_fade_out_s(params), rate);
  if (params.crossfade_s) options.crossfade_frames = seconds_to_frames(*params.crossfade_s, rate);
  auto plan = loop::plan_render(*analysis, frames, seconds_to_frames(params.duration_s, rate), options);
  if (!plan) return fail(plan.error());
  auto renderer = loop::LoopRenderer::create(decoded->samples, channels, *plan);
  if (!renderer) return fail(renderer.error());

  audio::EncodeOptions encode;
  encode.format = params.format;
  encode.sample_rate = rate;
  encode.channels = channels;
  encode.bitrate_kbps = params.bitrate_kbps;
  auto encoder = audio::AudioEncoder::create(output, encode);
  if (!encoder) return fail(encoder.error());

  const double total_s = static_cast<double>(plan->output_frames) / rate;
  ProgressThrottle progress(context);
  progress.report(0, total_s, true);
  std::vector<float> block(static_cast<std::size_t>(kBlockFrames * channels));
  while (!renderer->done()) {
    // The encoder's temporary file goes with it when this returns early.
    if (context.cancelled()) return fail(cancelled_error());
    const std::int64_t got = renderer->next_block(block.data(), kBlockFrames);
    if (got <= 0) break;
    if (auto written = encoder->write(block.data(), static_cast<std::size_t>(got)); !written)
      return fail(written.error());
    progress.report(static_cast<double>(renderer->frames_written()) / rate, total_s, renderer->done());
  }
  if (auto finished = encoder->finish(); !finished) return fail(finished.error());
  return summarise_loop(*analysis, *plan, rate, channels);
}

Result<std::vector<OutputFile>> run_loop(const config::LoopParams& params, const std::vector<LocalInput>& inputs,
                                         EngineContext& context) {
  if (inputs.size() != 1)
    return fail(ErrorCode::invalid_argument,
                fmt::format("a loop job takes exactly one input, got {}; submit one loop job per track", inputs.size()),
                "inputs");
  const std::string name = loop_output_name(inputs.front().name, params.format);
  auto summary = render_loop_file(params, inputs.front(), context.output_dir / name, context);
  if (!summary) return fail(summary.error());
  context.result = summary->to_json();
  return std::vector<OutputFile>{OutputFile{name, context.output_dir / name}};
}

}  // namespace ferry::agent
