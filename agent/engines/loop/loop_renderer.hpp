#pragma once
// Streams a RenderPlan: the output is produced block by block from the input
// held in memory, so memory stays at the input plus one block whatever the
// output length (ten hours included), and the caller can encode, report
// progress and check for cancellation between blocks.

#include <cstdint>
#include <span>

#include "agent/engines/loop/render_plan.hpp"
#include "common/error.hpp"

namespace ferry::agent::loop {

class LoopRenderer {
 public:
  /// Checks that `interleaved` holds plan.input_frames frames of `channels`
  /// channels. The renderer reads it in place: keep it alive and unchanged
  /// while rendering.
  static Result<LoopRenderer> create(std::span<const float> interleaved, int channels, const RenderPlan& plan);

  /// Writes up to `max_frames` interleaved frames into `out` (which holds
  /// max_frames * channels() floats) and returns how many were written;
  /// 0 once the whole output has been produced.
  std::int64_t next_block(float* out, std::int64_t max_frames);

  int channels() const { return channels_; }
  std::int64_t frames_written() const { return position_; }
  std::int64_t total_frames() const { return plan_.output_frames; }
  bool done() const { return position_ >= plan_.output_frames; }
  /// frames_written / total_frames, 0..1.
  double progress() const { return double(position_) / double(plan_.output_frames); }
  const RenderPlan& plan() const { return plan_; }

 private:
  LoopRenderer(std::span<const float> input, int channels, const RenderPlan& plan);

  // Writes output frames [position_, position_ + count) that lie in one
  // stretch of the layout (no seam boundary inside), returns count written.
  std::int64_t render_stretch(float* out, std::int64_t count);
  void copy_frames(float* out, std::int64_t input_frame, std::int64_t count) const;
  void blend_frames(float* out, std::int64_t zone_offset, std::int64_t count) const;
  void apply_fades(float* out, std::int64_t first_frame, std::int64_t count) const;

  std::span<const float> input_;
  int channels_ = 0;
  RenderPlan plan_;
  std::int64_t position_ = 0;
};

}  // namespace ferry::agent::loop
