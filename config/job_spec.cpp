#include "config/job_spec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <nlohmann/json.hpp>

#include "config/generate_rules.hpp"
#include "config/job_rules.hpp"
#include "config/suggest.hpp"
#include "config/try.hpp"

namespace ferry::config {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 4> kFormatNames{"wav", "wav-f32", "flac", "mp3"};
constexpr std::array<AudioFormat, 4> kFormats{AudioFormat::wav, AudioFormat::wav_f32, AudioFormat::flac,
                                              AudioFormat::mp3};

constexpr std::array<std::string_view, 3> kSpecFields{"kind", "inputs", "params"};
constexpr std::array<std::string_view, 3> kInputFields{"upload", "url", "name"};
constexpr std::array<std::string_view, 6> kConvertFields{"format",       "mono",      "sample_rate",
                                                         "bitrate_kbps", "segment_s", "cut_points_s"};
constexpr std::array<std::string_view, 7> kLoopFields{"duration_s", "format",      "crossfade_s", "fade_in_s",
                                                      "fade_out_s", "sample_rate", "bitrate_kbps"};
constexpr rules::LoopFieldNames kLoopNames{
    .duration = "duration_s",
    .format = "format",
    .crossfade = "crossfade_s",
    .fade_in = "fade_in_s",
    .fade_out = "fade_out_s",
    .sample_rate = "sample_rate",
    .bitrate = "bitrate_kbps",
};
constexpr std::array<std::string_view, 11> kSeparateFields{"model",  "checkpoint", "bag",   "stems",
                                                          "format", "mono",       "bitrate_kbps", "shifts",
                                                          "overlap", "seed",      "batch"};
constexpr rules::SeparateFieldNames kSeparateNames{
    .model = "model",
    .checkpoint = "checkpoint",
    .bag = "bag",
    .stems = "stems",
    .format = "format",
    .bitrate = "bitrate_kbps",
    .shifts = "shifts",
    .overlap = "overlap",
    .batch = "batch",
};
// The older music API's names (prompt, audio_duration, infer_step,
// guidance_scale) sit beside ferry's own.
constexpr std::array<std::string_view, 19> kGenerateFields{
    "caption",  "prompt", "lyrics",         "instrumental", "language",     "duration_s", "audio_duration",
    "seed",     "bpm",    "key",            "time_signature", "batch",      "shift",      "sampler",
    "format",   "bitrate_kbps", "name",     "infer_step",   "guidance_scale"};
constexpr rules::GenerateFieldNames kGenerateNames{
    .caption = "caption",
    .lyrics = "lyrics",
    .instrumental = "instrumental",
    .language = "language",
    .duration = "duration_s",
    .bpm = "bpm",
    .key = "key",
    .time_signature = "time_signature",
    .batch = "batch",
    .shift = "shift",
    .sampler = "sampler",
    .format = "format",
    .bitrate = "bitrate_kbps",
    .name = "name",
    .infer_steps = "infer_step",
    .guidance_scale = "guidance_scale",
};
constexpr rules::ConvertFieldNames kConvertNames{
    .format = "format",
    .sample_rate = "sample_rate",
    .bitrate = "bitrate_kbps",
    .segment = "segment_s",
    .cut_points = "cut_points_s",
};

std::string child_path(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}
std::string item_path(std::string_view path, std::size_t index) { return fmt::format("{}[{}]", path, index); }

Error error_at(std::string_view path, std::string_view message, ErrorCode code = ErrorCode::invalid_argument) {
  return Error{code, fmt::format("{}: {}", path, message), std::string(path)};
}

// "string \"abc\"", "number 1.5", "an object": what a message says was found.
std::string describe(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return fmt::format("boolean {}", value.get<bool>());
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return fmt::format("integer {}", value.dump());
    case json::value_t::number_float:
      return fmt::format("number {}", value.dump());
    case json::value_t::string: {
      auto text = value.get<std::string>();
      if (text.size() > 60) text = text.substr(0, 57) + "...";
      return fmt::format("string {}", json(text).dump());
    }
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    default:
      return "an unsupported value";
  }
}

Error wrong_type(std::string_view path, std::string_view expected, const json& found) {
  return error_at(path, fmt::format("expected {}, got {}", expected, describe(found)));
}

// An object whose keys must all be in `allowed`.
Status check_object(const json& value, std::string_view path, std::span<const std::string_view> allowed) {
  if (!value.is_object())
    return fail(wrong_type(path.empty() ? "job" : path, fmt::format("an object with {}", join_names(allowed)), value));
  for (const auto& [key, unused] : value.items())
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      return fail(error_at(child_path(path, key), unknown_name_message("field", key, allowed)));
  return {};
}

const json* find_field(const json& object, std::string_view key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

Result<std::string> read_string(const json& value, std::string_view path) {
  if (!value.is_string()) return fail(wrong_type(path, "a string", value));
  return value.get<std::string>();
}

Result<int> read_int(const json& value, std::string_view path) {
  if (!value.is_number_integer()) return fail(wrong_type(path, "an integer", value));
  // Range-check before narrowing: a huge integer must not wrap into range.
  if (value.is_number_unsigned() ? value.get<std::uint64_t>() > std::numeric_limits<int>::max()
                                 : (value.get<std::int64_t>() > std::numeric_limits<int>::max() ||
                                    value.get<std::int64_t>() < std::numeric_limits<int>::min()))
    return fail(error_at(path, fmt::format("integer {} is out of range", value.dump())));
  return value.get<int>();
}

Result<double> read_number(const json& value, std::string_view path) {
  if (!value.is_number()) return fail(wrong_type(path, "a number", value));
  return value.get<double>();
}

Result<bool> read_bool(const json& value, std::string_view path) {
  if (!value.is_boolean()) return fail(wrong_type(path, "true or false", value));
  return value.get<bool>();
}

bool is_lower_hex_sha256(std::string_view text) {
  return text.size() == 64 &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The last path segment of an http(s) URL, without query or fragment.
std::string url_file_name(std::string_view url) {
  auto after_scheme = url.substr(url.find("://") + 3);
  auto path_start = after_scheme.find('/');
  if (path_start == std::string_view::npos) return {};
  auto path = after_scheme.substr(path_start);
  path = path.substr(0, path.find_first_of("?#"));
  return std::string(path.substr(path.rfind('/') + 1));
}

Status check_input_name(std::string_view name, std::string_view path) {
  if (name.empty() || name == "." || name == "..")
    return fail(error_at(path, fmt::format("expected a file name, got \"{}\"", name)));
  if (name.size() > kMaxInputNameBytes)
    return fail(
        error_at(path, fmt::format("a file name may be at most {} bytes, got {}", kMaxInputNameBytes, name.size())));
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos)
    return fail(error_at(path, "a file name must not contain '/' or NUL; give the name without its folder"));
  return {};
}

Result<InputRef> read_input(const json& value, std::string_view path) {
  FERRY_TRY(check_object(value, path, kInputFields));
  const json* upload = find_field(value, "upload");
  const json* url = find_field(value, "url");
  const json* name = find_field(value, "name");
  if (upload && url) return fail(error_at(path, "give either \"upload\" or \"url\", not both"));
  if (!upload && !url)
    return fail(error_at(path, "expected \"upload\" (the sha256 of an uploaded file) or \"url\" (http or https)"));

  InputRef input;
  if (upload) {
    auto upload_path = child_path(path, "upload");
    FERRY_ASSIGN(input.upload_sha256, read_string(*upload, upload_path));
    if (!is_lower_hex_sha256(input.upload_sha256))
      return fail(error_at(
          upload_path,
          fmt::format("expected the sha256 of an upload (64 lowercase hex digits), got {}", describe(*upload))));
    if (!name)
      return fail(error_at(child_path(path, "name"),
                           "missing; an upload needs its original file name, used to name the outputs"));
  } else {
    auto url_path = child_path(path, "url");
    FERRY_ASSIGN(input.url, read_string(*url, url_path));
    if (!rules::is_http_url(input.url))
      return fail(error_at(url_path, fmt::format("expected an http:// or https:// URL, got {}", describe(*url))));
  }

  auto name_path = child_path(path, "name");
  if (name) {
    FERRY_ASSIGN(input.name, read_string(*name, name_path));
  } else {
    input.name = url_file_name(input.url);
    if (input.name.empty())
      return fail(error_at(name_path,
                           fmt::format("missing, and the URL '{}' ends without a file name; give a name", input.url)));
  }
  FERRY_TRY(check_input_name(input.name, name_path));
  return input;
}

Result<std::vector<InputRef>> read_inputs(const json* value) {
  if (!value) return fail(error_at("inputs", "missing; a job needs at least one input"));
  if (!value->is_array()) return fail(wrong_type("inputs", "an array of inputs", *value));
  if (value->empty()) return fail(error_at("inputs", "expected at least one input, got an empty array"));
  if (value->size() > kMaxJobInputs)
    return fail(error_at(
        "inputs", fmt::format("expected at most {} inputs, got {}; split the job", kMaxJobInputs, value->size())));
  std::vector<InputRef> inputs;
  for (std::size_t i = 0; i < value->size(); ++i) {
    FERRY_ASSIGN(auto input, read_input((*value)[i], item_path("inputs", i)));
    inputs.push_back(std::move(input));
  }
  return inputs;
}

Result<AudioFormat> read_format(const json& value, std::string_view path) {
  FERRY_ASSIGN(auto text, read_string(value, path));
  auto format = audio_format_from_string(text);
  if (!format) return fail(error_at(path, format.error().message));
  return *format;
}

Result<ConvertParams> read_convert_params(const json& value, std::string_view path) {
  FERRY_TRY(check_object(value, path, kConvertFields));
  ConvertParams params;
  if (const json* field = find_field(value, "format")) {
    FERRY_ASSIGN(params.format, read_format(*field, child_path(path, "format")));
  }
  if (const json* field = find_field(value, "mono")) {
    FERRY_ASSIGN(params.mono, read_bool(*field, child_path(path, "mono")));
  }
  if (const json* field = find_field(value, "sample_rate")) {
    FERRY_ASSIGN(params.sample_rate, read_int(*field, child_path(path, "sample_rate")));
  }
  if (const json* field = find_field(value, "bitrate_kbps")) {
    FERRY_ASSIGN(params.bitrate_kbps, read_int(*field, child_path(path, "bitrate_kbps")));
  }
  if (const json* field = find_field(value, "segment_s")) {
    FERRY_ASSIGN(params.segment_s, read_number(*field, child_path(path, "segment_s")));
  }
  if (const json* field = find_field(value, "cut_points_s")) {
    auto field_path = child_path(path, "cut_points_s");
    if (!field->is_array()) return fail(wrong_type(field_path, "an array of times in seconds", *field));
    for (std::size_t i = 0; i < field->size(); ++i) {
      FERRY_ASSIGN(auto seconds, read_number((*field)[i], item_path(field_path, i)));
      params.cut_points_s.push_back(seconds);
    }
  }
  if (auto problem = rules::find_convert_problem(params, kConvertNames)) {
    auto field_path = child_path(path, rules::field_name(problem->field, kConvertNames));
    if (problem->index) field_path = item_path(field_path, *problem->index);
    return fail(error_at(field_path, problem->message));
  }
  return params;
}

Result<LoopParams> read_loop_params(const json* value, std::string_view path) {
  if (!value)
    return fail(error_at(path, "missing; a loop job needs at least {\"duration_s\": <seconds>}"));
  FERRY_TRY(check_object(*value, path, kLoopFields));
  LoopParams params;
  const json* duration = find_field(*value, "duration_s");
  if (!duration)
    return fail(error_at(child_path(path, "duration_s"), "missing; give the length of the loop in seconds, like 7200"));
  FERRY_ASSIGN(params.duration_s, read_number(*duration, child_path(path, "duration_s")));
  if (const json* field = find_field(*value, "format")) {
    FERRY_ASSIGN(params.format, read_format(*field, child_path(path, "format")));
  }
  if (const json* field = find_field(*value, "crossfade_s")) {
    FERRY_ASSIGN(params.crossfade_s, read_number(*field, child_path(path, "crossfade_s")));
  }
  if (const json* field = find_field(*value, "fade_in_s")) {
    FERRY_ASSIGN(params.fade_in_s, read_number(*field, child_path(path, "fade_in_s")));
  }
  if (const json* field = find_field(*value, "fade_out_s")) {
    FERRY_ASSIGN(params.fade_out_s, read_number(*field, child_path(path, "fade_out_s")));
  }
  if (const json* field = find_field(*value, "sample_rate")) {
    FERRY_ASSIGN(params.sample_rate, read_int(*field, child_path(path, "sample_rate")));
  }
  if (const json* field = find_field(*value, "bitrate_kbps")) {
    FERRY_ASSIGN(params.bitrate_kbps, read_int(*field, child_path(path, "bitrate_kbps")));
  }
  if (auto problem = rules::find_loop_problem(params, kLoopNames))
    return fail(error_at(child_path(path, rules::field_name(problem->field, kLoopNames)), problem->message));
  return params;
}

Result<SeparateParams> read_separate_params(const json& value, std::string_view path) {
  FERRY_TRY(check_object(value, path, kSeparateFields));
  SeparateParams params;
  if (const json* field = find_field(value, "model")) {
    FERRY_ASSIGN(params.model, read_string(*field, child_path(path, "model")));
  }
  if (const json* field = find_field(value, "checkpoint")) {
    FERRY_ASSIGN(params.checkpoint, read_string(*field, child_path(path, "checkpoint")));
  }
  if (const json* field = find_field(value, "bag")) {
    FERRY_ASSIGN(params.bag, read_string(*field, child_path(path, "bag")));
  }
  if (const json* field = find_field(value, "stems")) {
    auto field_path = child_path(path, "stems");
    if (!field->is_array()) return fail(wrong_type(field_path, "an array of stem names like [\"vocals\"]", *field));
    for (std::size_t i = 0; i < field->size(); ++i) {
      FERRY_ASSIGN(auto stem, read_string((*field)[i], item_path(field_path, i)));
      params.stems.push_back(std::move(stem));
    }
  }
  if (const json* field = find_field(value, "format")) {
    FERRY_ASSIGN(params.format, read_format(*field, child_path(path, "format")));
  }
  if (const json* field = find_field(value, "mono")) {
    FERRY_ASSIGN(params.mono, read_bool(*field, child_path(path, "mono")));
  }
  if (const json* field = find_field(value, "bitrate_kbps")) {
    FERRY_ASSIGN(params.bitrate_kbps, read_int(*field, child_path(path, "bitrate_kbps")));
  }
  if (const json* field = find_field(value, "shifts")) {
    FERRY_ASSIGN(params.shifts, read_int(*field, child_path(path, "shifts")));
  }
  if (const json* field = find_field(value, "overlap")) {
    FERRY_ASSIGN(params.overlap, read_number(*field, child_path(path, "overlap")));
  }
  if (const json* field = find_field(value, "seed")) {
    if (!field->is_number_integer() || (!field->is_number_unsigned() && field->get<std::int64_t>() < 0))
      return fail(wrong_type(child_path(path, "seed"), "a non-negative integer", *field));
    params.seed = field->get<std::uint64_t>();
  }
  if (const json* field = find_field(value, "batch")) {
    FERRY_ASSIGN(params.batch, read_int(*field, child_path(path, "batch")));
  }
  if (auto problem = rules::find_separate_problem(params, kSeparateNames)) {
    auto field_path = child_path(path, rules::field_name(problem->field, kSeparateNames));
    if (problem->index) field_path = item_path(field_path, *problem->index);
    return fail(error_at(field_path, problem->message));
  }
  return params;
}

// A field that may be spelt two ways (ferry's name, the older API's); both at
// once is an error naming them.
Result<const json*> find_either(const json& object, std::string_view path, std::string_view name,
                                std::string_view alias) {
  const json* first = find_field(object, name);
  const json* second = find_field(object, alias);
  if (first && second)
    return fail(error_at(child_path(path, alias), fmt::format("give {} or its older name {}, not both", name, alias)));
  return first ? first : second;
}

Result<GenerateParams> read_generate_params(const json& value, std::string_view path) {
  FERRY_TRY(check_object(value, path, kGenerateFields));
  GenerateParams params;
  FERRY_ASSIGN(const json* caption, find_either(value, path, "caption", "prompt"));
  if (!caption) return fail(error_at(child_path(path, "caption"), "missing; describe the music to make"));
  FERRY_ASSIGN(params.caption, read_string(*caption, child_path(path, "caption")));
  if (const json* field = find_field(value, "lyrics")) {
    FERRY_ASSIGN(params.lyrics, read_string(*field, child_path(path, "lyrics")));
  }
  if (const json* field = find_field(value, "instrumental")) {
    FERRY_ASSIGN(params.instrumental, read_bool(*field, child_path(path, "instrumental")));
  }
  if (const json* field = find_field(value, "language")) {
    FERRY_ASSIGN(params.language, read_string(*field, child_path(path, "language")));
  }
  FERRY_ASSIGN(const json* duration, find_either(value, path, "duration_s", "audio_duration"));
  if (!duration) return fail(error_at(child_path(path, "duration_s"), "missing; give the song's length in seconds"));
  FERRY_ASSIGN(params.duration_s, read_number(*duration, child_path(path, "duration_s")));
  if (const json* field = find_field(value, "seed")) {
    if (!field->is_number_integer() || (!field->is_number_unsigned() && field->get<std::int64_t>() < 0))
      return fail(wrong_type(child_path(path, "seed"), "a non-negative integer", *field));
    params.seed = field->get<std::uint64_t>();
  }
  if (const json* field = find_field(value, "bpm")) {
    FERRY_ASSIGN(params.bpm, read_int(*field, child_path(path, "bpm")));
  }
  if (const json* field = find_field(value, "key")) {
    FERRY_ASSIGN(params.key, read_string(*field, child_path(path, "key")));
  }
  if (const json* field = find_field(value, "time_signature")) {
    FERRY_ASSIGN(params.time_signature, read_int(*field, child_path(path, "time_signature")));
  }
  if (const json* field = find_field(value, "batch")) {
    FERRY_ASSIGN(params.batch, read_int(*field, child_path(path, "batch")));
  }
  if (const json* field = find_field(value, "shift")) {
    FERRY_ASSIGN(params.shift, read_int(*field, child_path(path, "shift")));
  }
  if (const json* field = find_field(value, "sampler")) {
    FERRY_ASSIGN(params.sampler, read_string(*field, child_path(path, "sampler")));
  }
  if (const json* field = find_field(value, "format")) {
    FERRY_ASSIGN(params.format, read_format(*field, child_path(path, "format")));
  }
  if (const json* field = find_field(value, "bitrate_kbps")) {
    FERRY_ASSIGN(params.bitrate_kbps, read_int(*field, child_path(path, "bitrate_kbps")));
  }
  if (const json* field = find_field(value, "name")) {
    FERRY_ASSIGN(params.name, read_string(*field, child_path(path, "name")));
  }
  if (const json* field = find_field(value, "infer_step")) {
    FERRY_ASSIGN(params.infer_steps, read_int(*field, child_path(path, "infer_step")));
  }
  if (const json* field = find_field(value, "guidance_scale")) {
    FERRY_ASSIGN(params.guidance_scale, read_number(*field, child_path(path, "guidance_scale")));
  }
  if (auto problem = rules::find_generate_problem(params, kGenerateNames))
    return fail(error_at(child_path(path, rules::field_name(problem->field, kGenerateNames)), problem->message));
  return params;
}

json generate_params_to_json(const GenerateParams& params) {
  json out = {{"caption", params.caption},   {"instrumental", params.instrumental}, {"language", params.language},
              {"duration_s", params.duration_s}, {"batch", params.batch},           {"shift", params.shift},
              {"sampler", params.sampler},   {"format", to_string(params.format)}};
  if (!params.lyrics.empty()) out["lyrics"] = params.lyrics;
  if (params.seed) out["seed"] = *params.seed;
  if (params.bpm) out["bpm"] = *params.bpm;
  if (!params.key.empty()) out["key"] = params.key;
  if (params.time_signature) out["time_signature"] = *params.time_signature;
  if (params.bitrate_kbps) out["bitrate_kbps"] = *params.bitrate_kbps;
  if (!params.name.empty()) out["name"] = params.name;
  if (params.infer_steps) out["infer_step"] = *params.infer_steps;
  if (params.guidance_scale) out["guidance_scale"] = *params.guidance_scale;
  return out;
}

json separate_params_to_json(const SeparateParams& params) {
  json out = {{"format", to_string(params.format)},
              {"mono", params.mono},
              {"shifts", params.shifts},
              {"overlap", params.overlap},
              {"seed", params.seed}};
  if (!params.model.empty()) out["model"] = params.model;
  if (params.checkpoint) out["checkpoint"] = *params.checkpoint;
  if (params.bag) out["bag"] = *params.bag;
  if (!params.stems.empty()) out["stems"] = params.stems;
  if (params.bitrate_kbps) out["bitrate_kbps"] = *params.bitrate_kbps;
  if (params.batch) out["batch"] = *params.batch;
  return out;
}

json loop_params_to_json(const LoopParams& params) {
  json out = {{"duration_s", params.duration_s}, {"format", to_string(params.format)}, {"fade_in_s", params.fade_in_s}};
  if (params.crossfade_s) out["crossfade_s"] = *params.crossfade_s;
  if (params.fade_out_s) out["fade_out_s"] = *params.fade_out_s;
  if (params.sample_rate) out["sample_rate"] = *params.sample_rate;
  if (params.bitrate_kbps) out["bitrate_kbps"] = *params.bitrate_kbps;
  return out;
}

json convert_params_to_json(const ConvertParams& params) {
  json out = {{"format", to_string(params.format)}, {"mono", params.mono}};
  if (params.sample_rate) out["sample_rate"] = *params.sample_rate;
  if (params.bitrate_kbps) out["bitrate_kbps"] = *params.bitrate_kbps;
  if (params.segment_s) out["segment_s"] = *params.segment_s;
  if (!params.cut_points_s.empty()) out["cut_points_s"] = params.cut_points_s;
  return out;
}

}  // namespace

std::string_view to_string(AudioFormat format) {
  for (std::size_t i = 0; i < kFormats.size(); ++i)
    if (kFormats[i] == format) return kFormatNames[i];
  return "wav";
}

Result<AudioFormat> audio_format_from_string(std::string_view text) {
  for (std::size_t i = 0; i < kFormats.size(); ++i)
    if (kFormatNames[i] == text) return kFormats[i];
  return fail(ErrorCode::invalid_argument, unknown_name_message("format", text, kFormatNames));
}

std::string_view file_extension(AudioFormat format) {
  switch (format) {
    case AudioFormat::wav:
    case AudioFormat::wav_f32:
      return "wav";
    case AudioFormat::flac:
      return "flac";
    case AudioFormat::mp3:
      return "mp3";
  }
  return "wav";
}

std::string_view job_kind(const JobParams& params) {
  struct KindName {
    std::string_view operator()(const ConvertParams&) const { return "convert"; }
    std::string_view operator()(const LoopParams&) const { return "loop"; }
    std::string_view operator()(const SeparateParams&) const { return "separate"; }
    std::string_view operator()(const GenerateParams&) const { return "generate"; }
  };
  return std::visit(KindName{}, params);
}

bool takes_no_inputs(const JobParams& params) { return std::holds_alternative<GenerateParams>(params); }

std::string generate_output_stem(const GenerateParams& params) {
  if (!params.name.empty()) return params.name;
  constexpr std::size_t kMaxStem = 40;
  std::string stem;
  bool gap = false;
  for (char c : params.caption) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) && byte < 0x80) {
      if (gap && !stem.empty()) stem += '-';
      gap = false;
      if (stem.size() >= kMaxStem) break;
      stem += static_cast<char>(std::tolower(byte));
    } else {
      gap = true;
    }
  }
  while (!stem.empty() && stem.back() == '-') stem.pop_back();
  return stem.empty() ? "song" : stem;
}

Result<JobSpec> job_spec_from_json(const json& value) {
  FERRY_TRY(check_object(value, "", kSpecFields));
  const json* kind_field = find_field(value, "kind");
  if (!kind_field)
    return fail(error_at("kind", fmt::format("missing; expected one of: {}", join_names(rules::kAvailableJobKinds))));
  FERRY_ASSIGN(auto kind, read_string(*kind_field, "kind"));
  if (auto problem = rules::job_kind_problem(kind)) return fail(error_at("kind", problem->message, problem->code));

  JobSpec spec;
  static const json kNoParams = json::object();
  const json* params = find_field(value, "params");
  if (kind == "generate") {
    const json* inputs = find_field(value, "inputs");
    if (inputs && !(inputs->is_array() && inputs->empty()))
      return fail(error_at("inputs", "a generate job takes no inputs; leave inputs out or empty"));
    FERRY_ASSIGN(spec.params, read_generate_params(params ? *params : kNoParams, "params"));
    return spec;
  }
  FERRY_ASSIGN(spec.inputs, read_inputs(find_field(value, "inputs")));
  // Each kind that passes job_kind_problem has a branch here.
  if (kind == "loop") {
    if (spec.inputs.size() != 1)
      return fail(error_at("inputs", fmt::format("a loop job takes exactly one input, got {}; submit one loop job per "
                                                 "track",
                                                 spec.inputs.size())));
    FERRY_ASSIGN(spec.params, read_loop_params(params, "params"));
    return spec;
  }
  if (kind == "separate") {
    FERRY_ASSIGN(spec.params, read_separate_params(params ? *params : kNoParams, "params"));
    return spec;
  }
  FERRY_ASSIGN(spec.params, read_convert_params(params ? *params : kNoParams, "params"));
  return spec;
}

json job_spec_to_json(const JobSpec& spec) {
  json inputs = json::array();
  for (const auto& input : spec.inputs) {
    json entry = json::object();
    if (!input.upload_sha256.empty())
      entry["upload"] = input.upload_sha256;
    else
      entry["url"] = input.url;
    if (!input.name.empty()) entry["name"] = input.name;
    inputs.push_back(std::move(entry));
  }
  struct ParamsToJson {
    json operator()(const ConvertParams& params) const { return convert_params_to_json(params); }
    json operator()(const LoopParams& params) const { return loop_params_to_json(params); }
    json operator()(const SeparateParams& params) const { return separate_params_to_json(params); }
    json operator()(const GenerateParams& params) const { return generate_params_to_json(params); }
  };
  return json{{"kind", job_kind(spec.params)},
              {"inputs", std::move(inputs)},
              {"params", std::visit(ParamsToJson{}, spec.params)}};
}

}  // namespace ferry::config
