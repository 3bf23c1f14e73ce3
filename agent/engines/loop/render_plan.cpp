#include "agent/engines/loop/render_plan.hpp"

#include <fmt/format.h>

namespace ferry::agent::loop {

std::int64_t RenderPlan::seam_count() const {
  if (!loops || output_frames <= seam_position(0) - crossfade.before) return 0;
  // Jumps whose crossfade starts before the end of the output.
  return (output_frames - (seam_position(0) - crossfade.before) - 1) / loop_frames() + 1;
}

Result<RenderPlan> plan_render(const LoopAnalysis& analysis, std::int64_t input_frames, std::int64_t output_frames,
                               const RenderOptions& options) {
  if (input_frames <= 0) return fail(ErrorCode::invalid_argument, "the input has no frames", "input_frames");
  if (analysis.input_frames != input_frames)
    return fail(ErrorCode::invalid_argument,
                fmt::format("the analysis was made for {} frames but the input has {}; analyse this input first",
                            analysis.input_frames, input_frames),
                "analysis");
  if (!(analysis.loop_start >= 0 && analysis.loop_start < analysis.loop_end && analysis.loop_end <= input_frames))
    return fail(ErrorCode::invalid_argument,
                fmt::format("loop [{}, {}) does not lie inside the input of {} frames", analysis.loop_start,
                            analysis.loop_end, input_frames),
                "analysis");
  if (output_frames <= 0)
    return fail(ErrorCode::invalid_argument, fmt::format("the output length must be positive, got {} frames", output_frames),
                "duration");
  if (options.fade_in_frames < 0 || options.fade_out_frames < 0)
    return fail(ErrorCode::invalid_argument, "fade lengths cannot be negative", options.fade_in_frames < 0 ? "fade_in" : "fade_out");
  if (options.fade_in_frames + options.fade_out_frames > output_frames)
    return fail(ErrorCode::invalid_argument,
                fmt::format("fade-in and fade-out ({} + {} frames) are longer than the output ({} frames); "
                            "shorten the fades or ask for a longer output",
                            options.fade_in_frames, options.fade_out_frames, output_frames),
                "fade_out");
  if (options.crossfade_frames && *options.crossfade_frames < 0)
    return fail(ErrorCode::invalid_argument, "the crossfade length cannot be negative", "crossfade");

  RenderPlan plan;
  plan.input_frames = input_frames;
  plan.output_frames = output_frames;
  plan.fade_in_frames = options.fade_in_frames;
  plan.fade_out_frames = options.fade_out_frames;
  plan.loop_start = analysis.loop_start;
  plan.loop_end = analysis.loop_end;
  plan.curve = options.curve.value_or(analysis.curve);
  plan.crossfade = options.crossfade_frames
                       ? fit_crossfade(*options.crossfade_frames, plan.loop_start, plan.loop_end, input_frames)
                       : fit_crossfade(analysis.crossfade.length(), plan.loop_start, plan.loop_end, input_frames);
  // The input alone covers outputs that end before the first crossfade.
  plan.loops = output_frames > plan.loop_end - plan.crossfade.before;
  if (!plan.loops) {
    plan.intro_frames = output_frames;
    return plan;
  }
  plan.intro_frames = plan.loop_start;
  const std::int64_t after_intro = output_frames - plan.loop_start;
  plan.repetitions = after_intro / plan.loop_frames();
  plan.tail_frames = after_intro % plan.loop_frames();
  return plan;
}

}  // namespace ferry::agent::loop
