#include "config/job_rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "config/suggest.hpp"

namespace ferry::config::rules {

std::optional<Error> job_kind_problem(std::string_view kind) {
  if (std::find(kAvailableJobKinds.begin(), kAvailableJobKinds.end(), kind) != kAvailableJobKinds.end())
    return std::nullopt;
  if (std::find(kPlannedJobKinds.begin(), kPlannedJobKinds.end(), kind) != kPlannedJobKinds.end())
    return Error{ErrorCode::unsupported,
                 fmt::format("job kind '{}' is not available in this version of ferry (available: {})", kind,
                             join_names(kAvailableJobKinds)),
                 {}};
  return Error{ErrorCode::invalid_argument, unknown_name_message("job kind", kind, kAvailableJobKinds), {}};
}

bool is_http_url(std::string_view text) {
  std::string_view rest;
  if (text.starts_with("http://"))
    rest = text.substr(7);
  else if (text.starts_with("https://"))
    rest = text.substr(8);
  else
    return false;
  // Spaces or control characters mean the URL was not encoded; the agent
  // would fail on it much later.
  if (rest.empty() || rest.front() == '/') return false;
  return std::none_of(text.begin(), text.end(),
                      [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; });
}

std::string_view field_name(ConvertField field, const ConvertFieldNames& names) {
  switch (field) {
    case ConvertField::format:
      return names.format;
    case ConvertField::sample_rate:
      return names.sample_rate;
    case ConvertField::bitrate:
      return names.bitrate;
    case ConvertField::segment:
      return names.segment;
    case ConvertField::cut_points:
      return names.cut_points;
  }
  return names.format;
}

std::optional<ConvertProblem> find_convert_problem(const ConvertParams& params, const ConvertFieldNames& names) {
  using enum ConvertField;
  if (params.sample_rate && (*params.sample_rate < kMinSampleRate || *params.sample_rate > kMaxSampleRate))
    return ConvertProblem{sample_rate, std::nullopt,
                          fmt::format("expected a sample rate from {} to {} Hz, got {}", kMinSampleRate, kMaxSampleRate,
                                      *params.sample_rate)};
  if (params.bitrate_kbps) {
    if (*params.bitrate_kbps < kMinBitrateKbps || *params.bitrate_kbps > kMaxBitrateKbps)
      return ConvertProblem{bitrate, std::nullopt,
                            fmt::format("expected a bitrate from {} to {} kbps, got {}", kMinBitrateKbps,
                                        kMaxBitrateKbps, *params.bitrate_kbps)};
    if (params.format != AudioFormat::mp3)
      return ConvertProblem{bitrate, std::nullopt,
                            fmt::format("{} applies only to mp3 output, but {} is {}; remove it or set {} to mp3",
                                        names.bitrate, names.format, to_string(params.format), names.format)};
  }
  if (params.segment_s && !(std::isfinite(*params.segment_s) && *params.segment_s >= kMinSegmentSeconds))
    return ConvertProblem{
        segment, std::nullopt,
        fmt::format("expected a segment length of at least {} s, got {}", kMinSegmentSeconds, *params.segment_s)};
  const auto& cuts = params.cut_points_s;
  if (cuts.size() > kMaxCutPoints)
    return ConvertProblem{cut_points, std::nullopt,
                          fmt::format("expected at most {} cut points, got {}; use {} for regular cuts", kMaxCutPoints,
                                      cuts.size(), names.segment)};
  for (std::size_t i = 0; i < cuts.size(); ++i) {
    if (!(std::isfinite(cuts[i]) && cuts[i] > 0))
      return ConvertProblem{cut_points, i, fmt::format("expected a time after 0 s, got {}", cuts[i])};
    if (i > 0 && !(cuts[i] > cuts[i - 1]))
      return ConvertProblem{
          cut_points, i, fmt::format("cut points must be strictly ascending, but {} follows {}", cuts[i], cuts[i - 1])};
  }
  if (params.segment_s && !cuts.empty())
    return ConvertProblem{
        cut_points, std::nullopt,
        fmt::format("{} and {} cannot be combined; keep one of them", names.segment, names.cut_points)};
  return std::nullopt;
}

}  // namespace ferry::config::rules
