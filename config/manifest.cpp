#include "config/manifest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <system_error>

#include "common/files.hpp"
#include "config/generate_rules.hpp"
#include "config/job_rules.hpp"
#include "config/suggest.hpp"
#include "config/try.hpp"
#include "config/yaml_walker.hpp"

namespace ferry::config {
namespace {

namespace fs = std::filesystem;
using yaml::Field;
using yaml::Map;

// Manifests list inputs by path or glob; anything this large is a mistake
// (a pasted file) and would only slow the YAML parser down.
constexpr std::uintmax_t kMaxManifestBytes = 1u << 20;
constexpr int kMaxInstances = 256;

constexpr std::array<std::string_view, 10> kTopKeys{"name",         "provider",     "instances", "resources", "image",
                                                    "idle_timeout", "max_duration", "budget",    "output",    "jobs"};
constexpr std::array<std::string_view, 4> kResourceKeys{"gpu", "disk", "max_price", "spot"};
constexpr std::array<std::string_view, 3> kGpuKeys{"memory", "count", "name"};
constexpr std::array<std::string_view, 4> kProviders{"vast", "runpod", "fly", "local"};
constexpr std::array<std::string_view, 7> kConvertKeys{"inputs",  "format",     "mono",   "sample_rate",
                                                       "bitrate", "cut_points", "segment"};
constexpr rules::ConvertFieldNames kConvertNames{
    .format = "format",
    .sample_rate = "sample_rate",
    .bitrate = "bitrate",
    .segment = "segment",
    .cut_points = "cut_points",
};

constexpr std::array<std::string_view, 9> kLoopKeys{"input",    "duration", "format",      "crossfade", "fade",
                                                    "fade_in",  "fade_out", "sample_rate", "bitrate"};
constexpr rules::LoopFieldNames kLoopNames{
    .duration = "duration",
    .format = "format",
    .crossfade = "crossfade",
    .fade_in = "fade_in",
    .fade_out = "fade_out",
    .sample_rate = "sample_rate",
    .bitrate = "bitrate",
};

constexpr std::array<std::string_view, 12> kSeparateKeys{"inputs", "model",   "checkpoint", "bag",
                                                         "stems",  "format",  "mono",       "bitrate",
                                                         "shifts", "overlap", "seed",       "batch"};
constexpr rules::SeparateFieldNames kSeparateNames{
    .model = "model",
    .checkpoint = "checkpoint",
    .bag = "bag",
    .stems = "stems",
    .format = "format",
    .bitrate = "bitrate",
    .shifts = "shifts",
    .overlap = "overlap",
    .batch = "batch",
};

// The older music API's names (prompt, audio_duration in seconds,
// infer_step, guidance_scale) are read beside ferry's own.
constexpr std::array<std::string_view, 19> kGenerateKeys{
    "caption", "prompt",         "lyrics", "instrumental", "language", "duration",   "audio_duration",
    "seed",    "bpm",            "key",    "time_signature", "batch",  "shift",      "sampler",
    "format",  "bitrate",        "name",   "infer_step",   "guidance_scale"};
constexpr rules::GenerateFieldNames kGenerateNames{
    .caption = "caption",
    .lyrics = "lyrics",
    .instrumental = "instrumental",
    .language = "language",
    .duration = "duration",
    .bpm = "bpm",
    .key = "key",
    .time_signature = "time_signature",
    .batch = "batch",
    .shift = "shift",
    .sampler = "sampler",
    .format = "format",
    .bitrate = "bitrate",
    .name = "name",
    .infer_steps = "infer_step",
    .guidance_scale = "guidance_scale",
};

constexpr std::string_view kSizeWhat = "a size like 40GB or 16GiB";
constexpr std::string_view kDurationWhat = "a duration like 90s, 10m or 1h30m";
constexpr std::string_view kMoneyWhat = "dollars like 0.50";

Error located(const SourceLocation& where, std::string_view message, ErrorCode code = ErrorCode::invalid_argument) {
  return Error{code, fmt::format("{}: {}", where.to_string(), message), {}};
}

// The file's stem, made safe for labels and folder names.
std::string default_name(const fs::path& file) {
  std::string name = file.stem().string();
  for (char& c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '-';
  while (!name.empty() && name.front() == '.') name.erase(name.begin());
  if (name.size() > 128) name.resize(128);
  return name.empty() ? "ferry" : name;
}

Result<std::string> read_name(const Field& field) {
  FERRY_ASSIGN(auto name, field.string());
  if (!is_safe_name(name))
    return fail(field.expected("a name of letters, digits, '.', '_' or '-' (at most 128, not starting with '.')"));
  return name;
}

Result<std::string> read_provider(const Field& field) {
  FERRY_ASSIGN(auto provider, field.string());
  if (std::find(kProviders.begin(), kProviders.end(), provider) == kProviders.end())
    return fail(field.error(unknown_name_message("provider", provider, kProviders)));
  return provider;
}

Result<int> read_int_between(const Field& field, long long low, long long high, std::string_view what) {
  FERRY_ASSIGN(auto value, field.integer());
  if (value < low || value > high) return fail(field.expected(fmt::format("{} from {} to {}", what, low, high)));
  return static_cast<int>(value);
}

Result<std::string> read_non_empty_string(const Field& field, std::string_view what) {
  FERRY_ASSIGN(auto text, field.scalar(what));
  if (text.empty()) return fail(field.expected(what));
  return text;
}

Result<std::chrono::milliseconds> read_positive_duration(const Field& field) {
  FERRY_ASSIGN(auto duration, field.parsed(kDurationWhat, parse_duration));
  if (duration.count() <= 0)
    return fail(field.error(
        fmt::format("expected a duration longer than 0 like 10m; leave {} out for the default", field.path())));
  return duration;
}

Result<double> read_positive_money(const Field& field) {
  FERRY_ASSIGN(auto amount, field.parsed(kMoneyWhat, parse_money));
  if (!(amount > 0))
    return fail(field.error(fmt::format("expected more than $0; leave {} out for no limit", field.path())));
  return amount;
}

Result<double> read_seconds(const Field& field) {
  FERRY_ASSIGN(auto duration, field.parsed("a time like 300 (seconds) or 5m", parse_duration));
  return static_cast<double>(duration.count()) / 1000.0;
}

Result<std::vector<std::string>> read_gpu_names(const Field& field) {
  constexpr std::string_view kWhat = "a GPU name like RTX_4090, or a list of them";
  std::vector<Field> items;
  if (field.is_list()) {
    FERRY_ASSIGN(items, field.list(kWhat));
  } else {
    items.push_back(field);
  }
  std::vector<std::string> names;
  for (const auto& item : items) {
    FERRY_ASSIGN(auto name, read_non_empty_string(item, kWhat));
    names.push_back(std::move(name));
  }
  return names;
}

Result<GpuRequest> read_gpu(const Field& field) {
  FERRY_ASSIGN(auto map, field.map(kGpuKeys));
  GpuRequest gpu;
  if (auto memory = map.get("memory")) {
    FERRY_ASSIGN(gpu.memory_bytes, memory->parsed("a size range like 16GB.. or 24GB..80GB", parse_size_range));
  }
  if (auto count = map.get("count")) {
    constexpr std::string_view kWhat = "a whole number of GPUs from 1, like 1 or 1..4";
    FERRY_ASSIGN(auto text, count->scalar(kWhat));
    auto range = parse_number_range(text);
    auto whole_and_positive = [](const std::optional<double>& end) {
      return !end || (*end >= 1 && *end == std::floor(*end));
    };
    // One message for every failure: the generic range grammar says nothing about GPUs.
    if (!range || !whole_and_positive(range->min) || !whole_and_positive(range->max))
      return fail(count->expected(kWhat));
    gpu.count = *range;
  }
  if (auto names = map.get("name")) {
    FERRY_ASSIGN(gpu.names, read_gpu_names(*names));
  }
  return gpu;
}

Result<Resources> read_resources(const Field& field, std::string_view provider) {
  FERRY_ASSIGN(auto map, field.map(kResourceKeys));
  Resources resources;
  if (auto gpu = map.get("gpu")) {
    if (provider == "fly")
      return fail(
          gpu->error("provider fly has no GPUs: Fly retired its GPU machines on 2026-08-01 and serves CPU work only; "
                     "remove resources.gpu or choose provider vast or runpod"));
    FERRY_ASSIGN(resources.gpu, read_gpu(*gpu));
  }
  if (auto disk = map.get("disk")) {
    FERRY_ASSIGN(resources.disk_bytes, disk->parsed(kSizeWhat, parse_size));
    if (*resources.disk_bytes == 0) return fail(disk->expected("a disk size above 0 like 40GB"));
  }
  if (auto price = map.get("max_price")) {
    FERRY_ASSIGN(resources.max_price_per_hour, read_positive_money(*price));
  }
  if (auto spot = map.get("spot")) {
    FERRY_ASSIGN(resources.spot, spot->boolean());
  }
  return resources;
}

Result<InputSource> read_input_source(const Field& item, std::string_view what) {
  FERRY_ASSIGN(auto text, read_non_empty_string(item, what));
  InputSource input{InputSource::Kind::path, text, item.where()};
  auto scheme_end = text.find("://");
  bool looks_like_url = scheme_end != std::string::npos && scheme_end > 0 &&
                        std::all_of(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(scheme_end),
                                    [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
  if (looks_like_url) {
    if (!rules::is_http_url(text))
      return fail(item.expected("an http:// or https:// URL (other schemes cannot be fetched)"));
    input.kind = InputSource::Kind::url;
  }
  return input;
}

Result<std::vector<InputSource>> read_input_sources(const Field& field) {
  constexpr std::string_view kWhat = "a list of files, globs or URLs like [talk.mp4, \"songs/*.wav\"]";
  FERRY_ASSIGN(auto items, field.list(kWhat));
  if (items.empty()) return fail(field.expected(kWhat));
  std::vector<InputSource> inputs;
  for (const auto& item : items) {
    FERRY_ASSIGN(auto input, read_input_source(item, "a file, glob or URL"));
    inputs.push_back(std::move(input));
  }
  return inputs;
}

Result<int> read_bitrate(const Field& field) {
  constexpr std::string_view kWhat = "a bitrate in kbps like 192 or 192k";
  FERRY_ASSIGN(std::string text, field.scalar(kWhat));
  if (!text.empty() && (text.back() == 'k' || text.back() == 'K')) text.pop_back();
  int kbps = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), kbps);
  if (error != std::errc{} || end != text.data() + text.size() || text.empty()) return fail(field.expected(kWhat));
  return kbps;
}

Result<ConvertParams> read_convert(const Field& field, std::vector<InputSource>& inputs) {
  FERRY_ASSIGN(auto map, field.map(kConvertKeys));
  FERRY_ASSIGN(auto inputs_field, map.require("inputs", "list the files to convert, like inputs: [talk.mp4]"));
  FERRY_ASSIGN(inputs, read_input_sources(inputs_field));

  ConvertParams params;
  if (auto format = map.get("format")) {
    FERRY_ASSIGN(params.format, format->parsed("a format (wav, wav-f32, flac or mp3)", audio_format_from_string));
  }
  if (auto mono = map.get("mono")) {
    FERRY_ASSIGN(params.mono, mono->boolean());
  }
  if (auto rate = map.get("sample_rate")) {
    FERRY_ASSIGN(params.sample_rate,
                 read_int_between(*rate, rules::kMinSampleRate, rules::kMaxSampleRate, "a sample rate in Hz"));
  }
  if (auto bitrate = map.get("bitrate")) {
    FERRY_ASSIGN(params.bitrate_kbps, read_bitrate(*bitrate));
  }
  if (auto segment = map.get("segment")) {
    FERRY_ASSIGN(params.segment_s, read_seconds(*segment));
  }
  if (auto cuts = map.get("cut_points")) {
    FERRY_ASSIGN(auto items, cuts->list("a list of times like [300, 10m]"));
    for (const auto& item : items) {
      FERRY_ASSIGN(auto seconds, read_seconds(item));
      params.cut_points_s.push_back(seconds);
    }
  }
  if (auto problem = rules::find_convert_problem(params, kConvertNames)) {
    auto culprit = *map.get(rules::field_name(problem->field, kConvertNames));
    if (problem->index) culprit = culprit.item(*problem->index);
    return fail(culprit.error(problem->message));
  }
  return params;
}

Result<double> read_fade_seconds(const Field& field) {
  FERRY_ASSIGN(auto duration, field.parsed("a fade length like 10s (0 for none)", parse_duration));
  return static_cast<double>(duration.count()) / 1000.0;
}

// `- loop: {input: results/track.mp3, duration: 2h, fade: 10s}`: `fade`
// sets both fades, `fade_in` and `fade_out` override it one at a time.
Result<LoopParams> read_loop(const Field& field, std::vector<InputSource>& inputs) {
  FERRY_ASSIGN(auto map, field.map(kLoopKeys));
  FERRY_ASSIGN(auto input_field,
               map.require("input", "name the track to loop, like `input: results/track.mp3` (one file or URL)"));
  if (input_field.is_list())
    return fail(input_field.error(
        "a loop takes one input, like `input: track.mp3`; add one loop entry per track to loop several"));
  FERRY_ASSIGN(auto input, read_input_source(input_field, "a file or URL like track.mp3"));
  inputs = {std::move(input)};

  LoopParams params;
  FERRY_ASSIGN(auto duration, map.require("duration", "give the length of the loop, like `duration: 2h`"));
  FERRY_ASSIGN(auto length, duration.parsed("a loop length like 2h or 90m", parse_duration));
  params.duration_s = static_cast<double>(length.count()) / 1000.0;
  if (auto format = map.get("format")) {
    FERRY_ASSIGN(params.format, format->parsed("a format (wav, wav-f32, flac or mp3)", audio_format_from_string));
  }
  if (auto crossfade = map.get("crossfade")) {
    FERRY_ASSIGN(params.crossfade_s, read_seconds(*crossfade));
  }
  if (auto fade = map.get("fade")) {
    FERRY_ASSIGN(params.fade_in_s, read_fade_seconds(*fade));
    params.fade_out_s = params.fade_in_s;
  }
  if (auto fade_in = map.get("fade_in")) {
    FERRY_ASSIGN(params.fade_in_s, read_fade_seconds(*fade_in));
  }
  if (auto fade_out = map.get("fade_out")) {
    FERRY_ASSIGN(params.fade_out_s, read_fade_seconds(*fade_out));
  }
  if (auto rate = map.get("sample_rate")) {
    FERRY_ASSIGN(params.sample_rate,
                 read_int_between(*rate, rules::kMinSampleRate, rules::kMaxSampleRate, "a sample rate in Hz"));
  }
  if (auto bitrate = map.get("bitrate")) {
    FERRY_ASSIGN(params.bitrate_kbps, read_bitrate(*bitrate));
  }
  if (auto problem = rules::find_loop_problem(params, kLoopNames)) {
    auto culprit = map.get(rules::field_name(problem->field, kLoopNames));
    // A fade set through `fade` is reported there.
    if (!culprit) culprit = map.get("fade");
    return fail((culprit ? *culprit : duration).error(problem->message));
  }
  return params;
}

// A plain decimal number such as 0.25 (no units).
Result<double> parse_plain_number(std::string_view text) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size())
    return fail(ErrorCode::invalid_argument, fmt::format("expected a number like 0.25, got '{}'", text));
  return value;
}

// `- separate: {inputs: [songs/*.mp3], model: htdemucs_ft, stems: [vocals, instrumental], format: mp3}`
Result<SeparateParams> read_separate(const Field& field, std::vector<InputSource>& inputs) {
  FERRY_ASSIGN(auto map, field.map(kSeparateKeys));
  FERRY_ASSIGN(auto inputs_field, map.require("inputs", "list the songs to separate, like inputs: [songs/*.mp3]"));
  FERRY_ASSIGN(inputs, read_input_sources(inputs_field));

  SeparateParams params;
  if (auto model = map.get("model")) {
    FERRY_ASSIGN(params.model, read_non_empty_string(*model, "a model name like htdemucs_ft"));
  }
  if (auto checkpoint = map.get("checkpoint")) {
    FERRY_ASSIGN(params.checkpoint, read_non_empty_string(*checkpoint, "a checkpoint file name in the agent's models folder"));
  }
  if (auto bag = map.get("bag")) {
    FERRY_ASSIGN(params.bag, read_non_empty_string(*bag, "a bag YAML file name in the agent's models folder"));
  }
  if (auto stems = map.get("stems")) {
    FERRY_ASSIGN(auto items, stems->list("a list of stems like [vocals, instrumental]"));
    for (const auto& item : items) {
      FERRY_ASSIGN(auto stem, read_non_empty_string(item, "a stem name like vocals"));
      params.stems.push_back(std::move(stem));
    }
  }
  if (auto format = map.get("format")) {
    FERRY_ASSIGN(params.format, format->parsed("a format (wav, wav-f32, flac or mp3)", audio_format_from_string));
  }
  if (auto mono = map.get("mono")) {
    FERRY_ASSIGN(params.mono, mono->boolean());
  }
  if (auto bitrate = map.get("bitrate")) {
    FERRY_ASSIGN(params.bitrate_kbps, read_bitrate(*bitrate));
  }
  if (auto shifts = map.get("shifts")) {
    FERRY_ASSIGN(params.shifts, read_int_between(*shifts, 0, rules::kMaxSeparationShifts, "a number of shifts"));
  }
  if (auto overlap = map.get("overlap")) {
    FERRY_ASSIGN(params.overlap, overlap->parsed("an overlap like 0.25", parse_plain_number));
  }
  if (auto seed = map.get("seed")) {
    FERRY_ASSIGN(auto value, seed->integer());
    if (value < 0) return fail(seed->expected("a seed of 0 or more"));
    params.seed = static_cast<std::uint64_t>(value);
  }
  if (auto batch = map.get("batch")) {
    FERRY_ASSIGN(params.batch, read_int_between(*batch, 1, rules::kMaxSeparationBatch, "a batch of chunks"));
  }
  if (auto problem = rules::find_separate_problem(params, kSeparateNames)) {
    auto culprit = *map.get(rules::field_name(problem->field, kSeparateNames));
    if (problem->index) culprit = culprit.item(*problem->index);
    return fail(culprit.error(problem->message));
  }
  return params;
}

// One of two spellings of a field (ferry's, the older API's), or none; both
// is an error at the second.
Result<std::optional<Field>> either(const Map& map, std::string_view name, std::string_view alias) {
  auto first = map.get(name);
  auto second = map.get(alias);
  if (first && second) return fail(second->error(fmt::format("give {} or its older name {}, not both", name, alias)));
  return first ? first : second;
}

// `- generate: {caption: "warm lo-fi piano", duration: 3m, seed: 42, format: mp3}`
Result<GenerateParams> read_generate(const Field& field) {
  FERRY_ASSIGN(auto map, field.map(kGenerateKeys));
  GenerateParams params;
  FERRY_ASSIGN(auto caption, either(map, "caption", "prompt"));
  if (!caption) return fail(field.error("missing caption; describe the music, like `caption: warm lo-fi piano`"));
  FERRY_ASSIGN(params.caption, caption->string());
  if (auto lyrics = map.get("lyrics")) {
    FERRY_ASSIGN(params.lyrics, lyrics->string());
  }
  if (auto instrumental = map.get("instrumental")) {
    FERRY_ASSIGN(params.instrumental, instrumental->boolean());
  }
  if (auto language = map.get("language")) {
    FERRY_ASSIGN(params.language, read_non_empty_string(*language, "a language code like en"));
  }
  std::optional<Field> length_field;
  if (auto duration = map.get("duration")) {
    if (map.get("audio_duration"))
      return fail(map.get("audio_duration")->error("give duration or its older name audio_duration, not both"));
    FERRY_ASSIGN(auto length, duration->parsed("a song length like 3m or 45s", parse_duration));
    params.duration_s = static_cast<double>(length.count()) / 1000.0;
    length_field = duration;
  } else if (auto seconds = map.get("audio_duration")) {
    FERRY_ASSIGN(params.duration_s, seconds->parsed("a length in seconds like 180", parse_plain_number));
    length_field = seconds;
  } else {
    return fail(field.error("missing duration; give the song's length, like `duration: 3m`"));
  }
  if (auto seed = map.get("seed")) {
    FERRY_ASSIGN(auto value, seed->integer());
    if (value < 0) return fail(seed->expected("a seed of 0 or more"));
    params.seed = static_cast<std::uint64_t>(value);
  }
  if (auto bpm = map.get("bpm")) {
    FERRY_ASSIGN(params.bpm, read_int_between(*bpm, rules::kMinGenerateBpm, rules::kMaxGenerateBpm, "a tempo in bpm"));
  }
  if (auto key = map.get("key")) {
    FERRY_ASSIGN(params.key, read_non_empty_string(*key, "a key like F# minor"));
  }
  if (auto signature = map.get("time_signature")) {
    FERRY_ASSIGN(params.time_signature, read_int_between(*signature, 1, 12, "beats per bar"));
  }
  if (auto batch = map.get("batch")) {
    FERRY_ASSIGN(params.batch, read_int_between(*batch, 1, rules::kMaxGenerateBatch, "a number of songs"));
  }
  if (auto shift = map.get("shift")) {
    FERRY_ASSIGN(params.shift, read_int_between(*shift, 1, rules::kMaxGenerateShift, "a schedule shift"));
  }
  if (auto sampler = map.get("sampler")) {
    FERRY_ASSIGN(params.sampler, sampler->string());
  }
  if (auto format = map.get("format")) {
    FERRY_ASSIGN(params.format, format->parsed("a format (wav, wav-f32, flac or mp3)", audio_format_from_string));
  }
  if (auto bitrate = map.get("bitrate")) {
    FERRY_ASSIGN(params.bitrate_kbps, read_bitrate(*bitrate));
  }
  if (auto name = map.get("name")) {
    FERRY_ASSIGN(params.name, read_non_empty_string(*name, "a file name like my-song"));
  }
  if (auto steps = map.get("infer_step")) {
    FERRY_ASSIGN(auto value, steps->integer());
    params.infer_steps = static_cast<int>(std::clamp<long long>(value, -1, 100000));
  }
  if (auto guidance = map.get("guidance_scale")) {
    FERRY_ASSIGN(params.guidance_scale, guidance->parsed("a number like 15", parse_plain_number));
  }
  if (auto problem = rules::find_generate_problem(params, kGenerateNames)) {
    auto culprit = problem->field == rules::GenerateField::duration ? length_field
                                                                     : map.get(rules::field_name(problem->field, kGenerateNames));
    if (!culprit && problem->field == rules::GenerateField::caption) culprit = caption;
    return fail((culprit ? *culprit : field).error(problem->message));
  }
  return params;
}

Result<JobEntry> read_job(const Field& field) {
  FERRY_ASSIGN(auto map, field.any_map("a job like `convert: {inputs: [talk.mp4]}`"));
  if (map.entries().empty()) return fail(field.expected("a job like `convert: {inputs: [talk.mp4]}`"));
  if (map.entries().size() != 1) {
    std::vector<std::string_view> keys;
    for (const auto& entry : map.entries()) keys.push_back(entry.key);
    return fail(field.error(fmt::format(
        "expected exactly one job kind per entry, like `- convert: {{inputs: [talk.mp4]}}`, got {} keys ({}); "
        "indent a job's settings under its kind",
        keys.size(), join_names(keys))));
  }
  const auto& entry = map.entries().front();
  if (auto problem = rules::job_kind_problem(entry.key))
    return fail(Field(entry.value.node(), entry.value.path(), entry.key_where).error(*problem));

  JobEntry job;
  job.where = entry.key_where;
  // Each kind that passes job_kind_problem has a branch here.
  if (entry.key == "loop") {
    FERRY_ASSIGN(job.params, read_loop(entry.value, job.inputs));
  } else if (entry.key == "separate") {
    FERRY_ASSIGN(job.params, read_separate(entry.value, job.inputs));
  } else if (entry.key == "generate") {
    FERRY_ASSIGN(job.params, read_generate(entry.value));
  } else {
    FERRY_ASSIGN(job.params, read_convert(entry.value, job.inputs));
  }
  return job;
}

Result<std::vector<JobEntry>> read_jobs(const Field& field) {
  constexpr std::string_view kWhat = "a list of jobs like `- convert: {inputs: [talk.mp4]}`";
  FERRY_ASSIGN(auto items, field.list(kWhat));
  if (items.empty()) return fail(field.expected(kWhat));
  std::vector<JobEntry> jobs;
  for (const auto& item : items) {
    FERRY_ASSIGN(auto job, read_job(item));
    jobs.push_back(std::move(job));
  }
  return jobs;
}

// `max_price: 0.5` at the top level is a common slip; say where it belongs
// rather than only that it is unknown.
Status check_misplaced_resource_keys(const Field& root) {
  FERRY_ASSIGN(auto top, root.any_map(fmt::format("a map with keys {}", join_names(kTopKeys))));
  for (const auto& entry : top.entries())
    if (std::find(kResourceKeys.begin(), kResourceKeys.end(), entry.key) != kResourceKeys.end())
      return fail(Field(entry.value.node(), entry.value.path(), entry.key_where)
                      .error(fmt::format("'{}' belongs under resources:, like `resources: {{{}: ...}}`", entry.key,
                                         entry.key)));
  return {};
}

Error too_large(const fs::path& file, std::uintmax_t size) {
  return located(SourceLocation{file.string(), 1, 1},
                 fmt::format("the manifest is {}, over the 1 MiB limit; list inputs by path or glob instead of "
                             "pasting data into it",
                             format_size(size)),
                 ErrorCode::resource_exhausted);
}

}  // namespace

std::string SourceLocation::to_string() const { return fmt::format("{}:{}:{}", file, line, column); }

Result<Manifest> parse_manifest(std::string_view text, const fs::path& file) {
  if (text.size() > kMaxManifestBytes) return fail(too_large(file, text.size()));
  FERRY_ASSIGN(auto root, yaml::load_document(text, file.string()));
  if (root.is_null())
    return fail(located(SourceLocation{file.string(), 1, 1},
                        "the manifest is empty; it needs at least a list of jobs, like "
                        "`jobs: [{convert: {inputs: [talk.mp4]}}]`"));
  FERRY_TRY(check_misplaced_resource_keys(root));
  FERRY_ASSIGN(auto top, root.map(kTopKeys));

  Manifest manifest;
  manifest.file = fs::absolute(file).lexically_normal();
  manifest.base_dir = manifest.file.parent_path();
  manifest.name = default_name(file);
  manifest.output = manifest.base_dir / "results";

  if (auto name = top.get("name")) {
    FERRY_ASSIGN(manifest.name, read_name(*name));
  }
  if (auto provider = top.get("provider")) {
    FERRY_ASSIGN(manifest.provider, read_provider(*provider));
  }
  if (auto instances = top.get("instances")) {
    FERRY_ASSIGN(manifest.instances, read_int_between(*instances, 1, kMaxInstances, "a number of instances"));
  }
  if (auto resources = top.get("resources")) {
    FERRY_ASSIGN(manifest.resources, read_resources(*resources, manifest.provider));
  }
  if (auto image = top.get("image")) {
    FERRY_ASSIGN(manifest.image,
                 read_non_empty_string(*image, "an image reference like ghcr.io/OWNER/ferry-agent:cuda"));
  }
  if (auto idle = top.get("idle_timeout")) {
    FERRY_ASSIGN(manifest.idle_timeout, read_positive_duration(*idle));
  }
  if (auto max_duration = top.get("max_duration")) {
    FERRY_ASSIGN(manifest.max_duration, read_positive_duration(*max_duration));
  }
  if (auto budget = top.get("budget")) {
    FERRY_ASSIGN(manifest.budget, read_positive_money(*budget));
  }
  if (auto output = top.get("output")) {
    FERRY_ASSIGN(auto folder, read_non_empty_string(*output, "a folder like ./results"));
    manifest.output = (manifest.base_dir / folder).lexically_normal();
  }
  FERRY_ASSIGN(auto jobs, top.require("jobs", "add a list of jobs, like `jobs: [{convert: {inputs: [talk.mp4]}}]`"));
  FERRY_ASSIGN(manifest.jobs, read_jobs(jobs));
  return manifest;
}

Result<Manifest> load_manifest(const fs::path& file) {
  std::error_code error;
  auto status = fs::status(file, error);
  if (!fs::exists(status))
    return fail(
        ErrorCode::not_found,
        fmt::format("{}: no such manifest; check the path (relative paths start in the current folder)", file.string()),
        file.string());
  if (!fs::is_regular_file(status))
    return fail(ErrorCode::invalid_argument,
                fmt::format("{}: not a file; give the path of a YAML manifest", file.string()), file.string());
  auto size = fs::file_size(file, error);
  if (!error && size > kMaxManifestBytes) return fail(too_large(file, size));
  FERRY_ASSIGN(auto text, read_file(file));
  return parse_manifest(text, file);
}

}  // namespace ferry::config
