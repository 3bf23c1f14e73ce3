#pragma once
// How Demucs' apply_model cuts a signal into overlapping segments and blends
// them back: pure arithmetic, shared by the pipeline and its tests.

#include <cstdint>
#include <vector>

namespace ferry::models {

/// Segments of `segment_length` samples starting every `stride` samples.
struct ChunkPlan {
  std::int64_t segment_length = 0;
  std::int64_t stride = 0;
  std::vector<std::int64_t> offsets;  ///< 0, stride, 2*stride, ... < length
};

/// The chunks of a signal of `length` samples: stride = int((1 - overlap) * segment).
ChunkPlan plan_chunks(std::int64_t length, std::int64_t segment_length, double overlap);

/// The triangular blending window over a segment (peak 1 in the middle),
/// raised to `power` (demucs' transition_power).
std::vector<float> transition_weights(std::int64_t segment_length, double power);

/// Where a chunk of `length` samples at `offset` reads from its signal when
/// padded to `target` samples, centred: [begin, end) clipped to [0, total),
/// with the zeros to add on each side (TensorChunk.padded).
struct PaddedRange {
  std::int64_t begin = 0, end = 0, pad_left = 0, pad_right = 0;
};
PaddedRange padded_range(std::int64_t offset, std::int64_t length, std::int64_t target, std::int64_t total);

}  // namespace ferry::models
