#include "agent/models/chunk_plan.hpp"

#include <algorithm>
#include <cmath>

namespace ferry::models {

ChunkPlan plan_chunks(std::int64_t length, std::int64_t segment_length, double overlap) {
  ChunkPlan plan;
  plan.segment_length = segment_length;
  plan.stride = std::max<std::int64_t>(1, static_cast<std::int64_t>((1.0 - overlap) * static_cast<double>(segment_length)));
  for (std::int64_t offset = 0; offset < length; offset += plan.stride) plan.offsets.push_back(offset);
  return plan;
}

std::vector<float> transition_weights(std::int64_t segment_length, double power) {
  std::vector<float> weights;
  weights.reserve(static_cast<std::size_t>(segment_length));
  const std::int64_t half = segment_length / 2;
  for (std::int64_t i = 1; i <= half; ++i) weights.push_back(static_cast<float>(i));
  for (std::int64_t i = segment_length - half; i > 0; --i) weights.push_back(static_cast<float>(i));
  const float peak = weights.empty() ? 1.0f : *std::max_element(weights.begin(), weights.end());
  for (auto& w : weights) w = static_cast<float>(std::pow(w / peak, power));
  return weights;
}

PaddedRange padded_range(std::int64_t offset, std::int64_t length, std::int64_t target, std::int64_t total) {
  const std::int64_t delta = target - length;
  const std::int64_t start = offset - delta / 2;
  const std::int64_t end = start + target;
  PaddedRange range;
  range.begin = std::max<std::int64_t>(0, start);
  range.end = std::min(total, end);
  range.pad_left = range.begin - start;
  range.pad_right = end - range.end;
  return range;
}

}  // namespace ferry::models
