#include "agent/engines/loop/loop_renderer.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace ferry::agent::loop {

Result<LoopRenderer> LoopRenderer::create(std::span<const float> interleaved, int channels, const RenderPlan& plan) {
  if (channels <= 0)
    return fail(ErrorCode::invalid_argument, fmt::format("channel count must be at least 1, got {}", channels), "channels");
  if (plan.output_frames <= 0 || plan.input_frames <= 0)
    return fail(ErrorCode::invalid_argument, "the plan has no output or no input; make it with plan_render", "plan");
  if (std::int64_t(interleaved.size()) != plan.input_frames * channels)
    return fail(ErrorCode::invalid_argument,
                fmt::format("the input holds {} samples but the plan needs {} frames of {} channels",
                            interleaved.size(), plan.input_frames, channels),
                "input");
  const bool loop_fits = plan.loop_start >= plan.crossfade.before && plan.loop_start < plan.loop_end &&
                         plan.loop_end + plan.crossfade.after <= plan.input_frames &&
                         plan.crossfade.length() <= plan.loop_frames() && plan.crossfade.before >= 0 &&
                         plan.crossfade.after >= 0;
  if (plan.loops && !loop_fits)
    return fail(ErrorCode::invalid_argument, "the plan's loop or crossfade does not fit the input; make it with plan_render",
                "plan");
  if (!plan.loops && plan.output_frames > plan.input_frames)
    return fail(ErrorCode::invalid_argument, "a plan without a loop cannot be longer than its input", "plan");
  return LoopRenderer(interleaved, channels, plan);
}

LoopRenderer::LoopRenderer(std::span<const float> input, int channels, const RenderPlan& plan)
    : input_(input), channels_(channels), plan_(plan) {}

std::int64_t LoopRenderer::next_block(float* out, std::int64_t max_frames) {
  const std::int64_t first = position_;
  std::int64_t written = 0;
  while (written < max_frames && !done()) {
    written += render_stretch(out + written * channels_, max_frames - written);
  }
  apply_fades(out, first, written);
  return written;
}

std::int64_t LoopRenderer::render_stretch(float* out, std::int64_t count) {
  count = std::min(count, plan_.output_frames - position_);
  const std::int64_t first_zone = plan_.loop_end - plan_.crossfade.before;
  if (!plan_.loops || position_ < first_zone) {
    // Before the first jump the output is the input itself.
    if (plan_.loops) count = std::min(count, first_zone - position_);
    copy_frames(out, position_, count);
    position_ += count;
    return count;
  }
  // From the first crossfade on, the output repeats with the loop's period;
  // each cycle opens with a crossfade zone and goes on with loop material.
  const std::int64_t offset = (position_ - first_zone) % plan_.loop_frames();
  const std::int64_t zone = plan_.crossfade.length();
  if (offset < zone) {
    count = std::min(count, zone - offset);
    blend_frames(out, offset, count);
  } else {
    count = std::min(count, plan_.loop_frames() - offset);
    copy_frames(out, plan_.loop_start - plan_.crossfade.before + offset, count);
  }
  position_ += count;
  return count;
}

void LoopRenderer::copy_frames(float* out, std::int64_t input_frame, std::int64_t count) const {
  const float* source = input_.data() + input_frame * channels_;
  std::copy(source, source + count * channels_, out);
}

void LoopRenderer::blend_frames(float* out, std::int64_t zone_offset, std::int64_t count) const {
  const std::int64_t zone = plan_.crossfade.length();
  const float* outgoing = input_.data() + (plan_.loop_end - plan_.crossfade.before + zone_offset) * channels_;
  const float* incoming = input_.data() + (plan_.loop_start - plan_.crossfade.before + zone_offset) * channels_;
  for (std::int64_t i = 0; i < count; ++i) {
    const CrossfadeGains gains = crossfade_gains(plan_.curve, (double(zone_offset + i) + 0.5) / double(zone));
    for (int c = 0; c < channels_; ++c) {
      const std::int64_t at = i * channels_ + c;
      out[at] = gains.outgoing * outgoing[at] + gains.incoming * incoming[at];
    }
  }
}

void LoopRenderer::apply_fades(float* out, std::int64_t first_frame, std::int64_t count) const {
  // Multiplies the frames of this block that fall in [from, to) by gain(frame).
  auto scale = [&](std::int64_t from, std::int64_t to, auto gain) {
    const std::int64_t begin = std::max(from, first_frame), end = std::min(to, first_frame + count);
    for (std::int64_t frame = begin; frame < end; ++frame) {
      const float g = gain(frame);
      float* samples = out + (frame - first_frame) * channels_;
      for (int c = 0; c < channels_; ++c) samples[c] *= g;
    }
  };
  // Fade positions run from 0 so the very first and very last frames are silent.
  const std::int64_t fade_in = plan_.fade_in_frames, fade_out = plan_.fade_out_frames, total = plan_.output_frames;
  scale(0, fade_in, [&](std::int64_t frame) { return fade_gain(double(frame) / double(fade_in)); });
  scale(total - fade_out, total,
        [&](std::int64_t frame) { return fade_gain(double(total - 1 - frame) / double(fade_out)); });
}

}  // namespace ferry::agent::loop
