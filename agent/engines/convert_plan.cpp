#include "agent/engines/convert_plan.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <unordered_set>

#include "agent/audio/encoder.hpp"

namespace ferry::agent::convert {

namespace {

constexpr std::size_t kMaxStemLength = 100;

bool is_safe_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
}

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

std::string safe_stem(std::string_view name) {
  if (auto slash = name.find_last_of("/\\"); slash != std::string_view::npos) name.remove_prefix(slash + 1);
  // Leading dots go first, so ".bashrc" is a stem, not an extension.
  while (!name.empty() && name.front() == '.') name.remove_prefix(1);
  if (auto dot = name.rfind('.'); dot != std::string_view::npos) name = name.substr(0, dot);
  std::string stem;
  for (char c : name) stem += is_safe_char(c) ? c : '_';
  if (stem.size() > kMaxStemLength) stem.resize(kMaxStemLength);
  return stem.empty() ? "audio" : stem;
}

std::vector<std::string> unique_stems(const std::vector<std::string>& names) {
  std::vector<std::string> stems;
  std::unordered_set<std::string> taken;
  for (const auto& name : names) {
    std::string base = safe_stem(name);
    std::string stem = base;
    for (int n = 2; taken.count(lowercase(stem)) > 0; ++n) stem = base + "_" + std::to_string(n);
    taken.insert(lowercase(stem));
    stems.push_back(std::move(stem));
  }
  return stems;
}

std::string output_name(std::string_view stem, std::optional<std::size_t> segment_number, std::string_view extension) {
  std::string name(stem);
  if (segment_number) {
    char number[24];
    std::snprintf(number, sizeof number, "_%03zu", *segment_number);
    name += number;
  }
  name += '.';
  name += extension;
  return name;
}

Result<SegmentPlan> SegmentPlan::from_params(const config::ConvertParams& params, int sample_rate) {
  SegmentPlan plan;
  plan.sample_rate_ = sample_rate;
  if (params.segment_s && !params.cut_points_s.empty()) {
    return fail(ErrorCode::invalid_argument, "give either segment_s or cut_points_s, not both", "params.cut_points_s");
  }
  if (params.segment_s) {
    double seconds = *params.segment_s;
    if (!std::isfinite(seconds) || std::llround(seconds * sample_rate) < 1) {
      return fail(ErrorCode::invalid_argument, "segment_s must be a positive number of seconds", "params.segment_s");
    }
    plan.segment_s_ = seconds;
    plan.segment_frames_ = std::llround(seconds * sample_rate);
    return plan;
  }
  std::int64_t previous = 0;
  for (double seconds : params.cut_points_s) {
    std::int64_t frame = std::isfinite(seconds) ? std::llround(seconds * sample_rate) : -1;
    if (frame <= previous) {
      return fail(ErrorCode::invalid_argument,
                  "cut points must be positive, finite and ascending, at least one sample apart (" +
                      std::to_string(seconds) + " s is not)",
                  "params.cut_points_s");
    }
    plan.cut_frames_.push_back(frame);
    previous = frame;
  }
  return plan;
}

std::optional<std::int64_t> SegmentPlan::segment_end(std::size_t index) const {
  if (segment_frames_ > 0) {
    // From the time, not index * segment_frames_, so rounding never drifts.
    return std::llround(static_cast<double>(index + 1) * segment_s_ * sample_rate_);
  }
  if (index < cut_frames_.size()) return cut_frames_[index];
  return std::nullopt;
}

int output_channels(const config::ConvertParams& params, int source_channels) {
  if (params.mono) return 1;
  return std::min(source_channels, audio::max_channels(params.format));
}

}  // namespace ferry::agent::convert
