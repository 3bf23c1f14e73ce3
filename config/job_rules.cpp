#include "config/job_rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/files.hpp"
#include "config/suggest.hpp"
#include "config/units.hpp"

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

namespace {

std::optional<std::string> sample_rate_problem(const std::optional<int>& sample_rate) {
  if (sample_rate && (*sample_rate < kMinSampleRate || *sample_rate > kMaxSampleRate))
    return fmt::format("expected a sample rate from {} to {} Hz, got {}", kMinSampleRate, kMaxSampleRate,
                       *sample_rate);
  return std::nullopt;
}

std::optional<std::string> bitrate_problem(const std::optional<int>& bitrate_kbps, AudioFormat format,
                                           std::string_view bitrate_name, std::string_view format_name) {
  if (!bitrate_kbps) return std::nullopt;
  if (*bitrate_kbps < kMinBitrateKbps || *bitrate_kbps > kMaxBitrateKbps)
    return fmt::format("expected a bitrate from {} to {} kbps, got {}", kMinBitrateKbps, kMaxBitrateKbps,
                       *bitrate_kbps);
  if (format != AudioFormat::mp3)
    return fmt::format("{} applies only to mp3 output, but {} is {}; remove it or set {} to mp3", bitrate_name,
                       format_name, to_string(format), format_name);
  return std::nullopt;
}

// "2h", "1.5s": seconds as the manifest would write them.
std::string seconds_text(double seconds) {
  if (std::abs(seconds) < 9e15) return format_duration(std::chrono::milliseconds(std::llround(seconds * 1000.0)));
  return fmt::format("{} s", seconds);
}

}  // namespace

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
  if (auto problem = sample_rate_problem(params.sample_rate))
    return ConvertProblem{sample_rate, std::nullopt, std::move(*problem)};
  if (auto problem = bitrate_problem(params.bitrate_kbps, params.format, names.bitrate, names.format))
    return ConvertProblem{bitrate, std::nullopt, std::move(*problem)};
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

std::string_view field_name(LoopField field, const LoopFieldNames& names) {
  switch (field) {
    case LoopField::duration:
      return names.duration;
    case LoopField::format:
      return names.format;
    case LoopField::crossfade:
      return names.crossfade;
    case LoopField::fade_in:
      return names.fade_in;
    case LoopField::fade_out:
      return names.fade_out;
    case LoopField::sample_rate:
      return names.sample_rate;
    case LoopField::bitrate:
      return names.bitrate;
  }
  return names.duration;
}

std::optional<LoopProblem> find_loop_problem(const LoopParams& params, const LoopFieldNames& names) {
  using enum LoopField;
  const double length = params.duration_s;
  if (!std::isfinite(length) || length <= 0)
    return LoopProblem{duration, fmt::format("expected a loop length above 0, like 2h or 30m, got {}",
                                             std::isfinite(length) ? seconds_text(length) : "a non-finite number")};
  if (length < kMinLoopSeconds)
    return LoopProblem{duration, fmt::format("expected a loop length of at least {}, got {}",
                                             seconds_text(kMinLoopSeconds), seconds_text(length))};
  if (length > kMaxLoopSeconds)
    return LoopProblem{duration, fmt::format("{} is over the 10-hour limit; ask for at most 10h (for longer play, "
                                             "repeat the 10-hour file)",
                                             seconds_text(length))};
  if (params.crossfade_s && !(std::isfinite(*params.crossfade_s) && *params.crossfade_s >= kMinLoopCrossfadeSeconds &&
                              *params.crossfade_s <= kMaxLoopCrossfadeSeconds))
    return LoopProblem{crossfade, fmt::format("expected a crossfade from {} to {}, got {}; leave {} out to let the "
                                              "analysis choose",
                                              seconds_text(kMinLoopCrossfadeSeconds),
                                              seconds_text(kMaxLoopCrossfadeSeconds), seconds_text(*params.crossfade_s),
                                              names.crossfade)};
  auto fade_problem = [&](double fade) -> std::optional<std::string> {
    if (!std::isfinite(fade) || fade < 0) return fmt::format("expected a fade of 0 or more, got {}", fade);
    if (fade >= length)
      return fmt::format("a fade of {} does not fit in a loop of {}; make it shorter than {}", seconds_text(fade),
                         seconds_text(length), names.duration);
    return std::nullopt;
  };
  if (auto problem = fade_problem(params.fade_in_s)) return LoopProblem{fade_in, std::move(*problem)};
  if (params.fade_out_s) {
    if (auto problem = fade_problem(*params.fade_out_s)) return LoopProblem{fade_out, std::move(*problem)};
    if (params.fade_in_s + *params.fade_out_s > length)
      return LoopProblem{fade_out, fmt::format("the fade-in ({}) and fade-out ({}) together are longer than the loop "
                                               "({}); shorten them",
                                               seconds_text(params.fade_in_s), seconds_text(*params.fade_out_s),
                                               seconds_text(length))};
  }
  if (auto problem = sample_rate_problem(params.sample_rate)) return LoopProblem{sample_rate, std::move(*problem)};
  if (auto problem = bitrate_problem(params.bitrate_kbps, params.format, names.bitrate, names.format))
    return LoopProblem{bitrate, std::move(*problem)};
  return std::nullopt;
}

std::string_view field_name(SeparateField field, const SeparateFieldNames& names) {
  switch (field) {
    case SeparateField::model:
      return names.model;
    case SeparateField::checkpoint:
      return names.checkpoint;
    case SeparateField::bag:
      return names.bag;
    case SeparateField::stems:
      return names.stems;
    case SeparateField::bitrate:
      return names.bitrate;
    case SeparateField::shifts:
      return names.shifts;
    case SeparateField::overlap:
      return names.overlap;
    case SeparateField::batch:
      return names.batch;
  }
  return names.model;
}

std::optional<SeparateProblem> find_separate_problem(const SeparateParams& params, const SeparateFieldNames& names) {
  using enum SeparateField;
  const int weights_named = (params.model.empty() ? 0 : 1) + (params.checkpoint ? 1 : 0) + (params.bag ? 1 : 0);
  if (weights_named > 1) {
    const auto field = params.checkpoint ? checkpoint : bag;
    return SeparateProblem{field, std::nullopt,
                           fmt::format("give one of {}, {} or {}, not several", names.model, names.checkpoint,
                                       names.bag)};
  }
  auto name_problem = [](const std::string& name, std::string_view what) -> std::optional<std::string> {
    if (is_safe_name(name)) return std::nullopt;
    return fmt::format("'{}' is not a plain {} (letters, digits, '.', '_', '-'; no folders)", name, what);
  };
  if (!params.model.empty()) {
    if (auto problem = name_problem(params.model, "model name")) return SeparateProblem{model, std::nullopt, *problem};
  }
  if (params.checkpoint) {
    if (auto problem = name_problem(*params.checkpoint, "file name in the agent's models folder"))
      return SeparateProblem{checkpoint, std::nullopt, *problem};
  }
  if (params.bag) {
    if (auto problem = name_problem(*params.bag, "file name in the agent's models folder"))
      return SeparateProblem{bag, std::nullopt, *problem};
  }
  if (params.stems.size() > kMaxSeparationStems)
    return SeparateProblem{stems, std::nullopt,
                           fmt::format("expected at most {} stems, got {}", kMaxSeparationStems, params.stems.size())};
  for (std::size_t i = 0; i < params.stems.size(); ++i) {
    if (auto problem = name_problem(params.stems[i], "stem name like vocals or instrumental"))
      return SeparateProblem{stems, i, *problem};
    for (std::size_t j = 0; j < i; ++j) {
      if (params.stems[j] == params.stems[i])
        return SeparateProblem{stems, i, fmt::format("'{}' is listed twice", params.stems[i])};
    }
  }
  if (auto problem = bitrate_problem(params.bitrate_kbps, params.format, names.bitrate, names.format))
    return SeparateProblem{bitrate, std::nullopt, std::move(*problem)};
  if (params.shifts < 0 || params.shifts > kMaxSeparationShifts)
    return SeparateProblem{shifts, std::nullopt,
                           fmt::format("expected 0 to {} random shifts (each costs a full pass), got {}",
                                       kMaxSeparationShifts, params.shifts)};
  if (!std::isfinite(params.overlap) || params.overlap < 0 || params.overlap > kMaxSeparationOverlap)
    return SeparateProblem{overlap, std::nullopt,
                           fmt::format("expected an overlap from 0 to {} (Demucs uses 0.25), got {}",
                                       kMaxSeparationOverlap, params.overlap)};
  if (params.batch && (*params.batch < 1 || *params.batch > kMaxSeparationBatch))
    return SeparateProblem{batch, std::nullopt,
                           fmt::format("expected a batch of 1 to {} chunks, got {}", kMaxSeparationBatch, *params.batch)};
  return std::nullopt;
}

}  // namespace ferry::config::rules
