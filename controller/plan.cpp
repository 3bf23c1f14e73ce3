#include "controller/plan.hpp"

#include <glob.h>

#include <cmath>
#include <map>
#include <set>
#include <variant>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "config/units.hpp"

namespace ferry::controller {
namespace {

namespace fs = std::filesystem;

bool has_glob_characters(const std::string& text) { return text.find_first_of("*?[") != std::string::npos; }

std::string url_file_name(const std::string& url) {
  std::string path = url.substr(0, url.find_first_of("?#"));
  auto scheme = path.find("://");
  std::string rest = scheme == std::string::npos ? path : path.substr(scheme + 3);
  auto slash = rest.find('/');
  if (slash == std::string::npos) return "input";
  std::string last = rest.substr(rest.find_last_of('/') + 1);
  return last.empty() ? "input" : last;
}

std::string where_prefix(const config::InputSource& source) {
  std::string where = source.where.to_string();
  return where.empty() || source.where.line == 0 ? std::string() : where + ": ";
}

std::string seconds_text(double seconds) {
  return config::format_duration(std::chrono::milliseconds(std::llround(seconds * 1000)));
}

struct DescribeParams {
  std::string operator()(const config::ConvertParams& convert) const {
    std::string text(config::to_string(convert.format));
    if (convert.mono) text += ", mono";
    if (convert.sample_rate) text += fmt::format(", {} Hz", *convert.sample_rate);
    if (convert.bitrate_kbps) text += fmt::format(", {} kb/s", *convert.bitrate_kbps);
    if (convert.segment_s) text += ", " + seconds_text(*convert.segment_s) + " segments";
    if (!convert.cut_points_s.empty()) text += fmt::format(", cut at {} points", convert.cut_points_s.size());
    return text;
  }
  std::string operator()(const config::LoopParams& loop) const {
    std::string text = seconds_text(loop.duration_s) + " " + std::string(config::to_string(loop.format));
    if (loop.crossfade_s) text += ", " + seconds_text(*loop.crossfade_s) + " crossfade";
    if (loop.sample_rate) text += fmt::format(", {} Hz", *loop.sample_rate);
    if (loop.bitrate_kbps) text += fmt::format(", {} kb/s", *loop.bitrate_kbps);
    return text;
  }
  std::string operator()(const config::SeparateParams& separate) const {
    std::string model = separate.checkpoint ? *separate.checkpoint
                        : separate.bag      ? *separate.bag
                        : separate.model.empty() ? std::string(config::kDefaultSeparationModel)
                                                 : separate.model;
    std::string text = model + ", " + std::string(config::to_string(separate.format));
    if (!separate.stems.empty()) text += ", " + fmt::format("{}", fmt::join(separate.stems, "+"));
    if (separate.mono) text += ", mono";
    if (separate.bitrate_kbps) text += fmt::format(", {} kb/s", *separate.bitrate_kbps);
    return text;
  }
  std::string operator()(const config::GenerateParams& generate) const {
    std::string text = seconds_text(generate.duration_s) + " " + std::string(config::to_string(generate.format));
    if (generate.batch > 1) text += fmt::format(", {} songs", generate.batch);
    if (generate.instrumental) text += ", instrumental";
    if (generate.seed) text += fmt::format(", seed {}", *generate.seed);
    return text;
  }
};

std::string describe_params(const config::JobParams& params) { return std::visit(DescribeParams{}, params); }

// "url", "file", or "earlier_output" for a file an earlier entry makes.
const char* input_kind(const PlannedInput& input) {
  if (input.generated) return "none";
  if (input.is_url) return "url";
  return input.from_earlier_entry ? "earlier_output" : "file";
}

// The output format of a job, for names and clash keys.
config::AudioFormat output_format(const config::JobParams& params) {
  return std::visit([](const auto& typed) { return typed.format; }, params);
}

}  // namespace

std::optional<std::uint64_t> PlannedInput::size_now() const {
  if (generated) return 0;
  if (is_url) return std::nullopt;
  std::error_code error;
  auto size = std::filesystem::file_size(file, error);
  if (error) return std::nullopt;
  return size;
}

std::string PlannedInput::shown() const {
  if (generated) {
    std::string text = "(generated) ";  // two steps: see local_output_name on GCC 12's -Wrestrict
    text += name;
    return text;
  }
  return is_url ? url : file.string();
}

std::string PlannedJob::label() const { return input.name + " -> " + summary; }

Result<std::vector<PlannedInput>> expand_input(const config::InputSource& source, const fs::path& base_dir) {
  if (source.kind == config::InputSource::Kind::url) {
    PlannedInput input;
    input.is_url = true;
    input.url = source.text;
    input.name = url_file_name(source.text);
    input.where = source.where;
    return std::vector<PlannedInput>{std::move(input)};
  }

  fs::path pattern(source.text);
  if (pattern.is_relative()) pattern = base_dir / pattern;
  pattern = pattern.lexically_normal();

  std::vector<fs::path> matches;
  if (has_glob_characters(source.text)) {
    glob_t found{};
    int rc = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &found);
    if (rc == 0)
      for (std::size_t i = 0; i < found.gl_pathc; ++i) matches.emplace_back(found.gl_pathv[i]);
    globfree(&found);
    if (rc == GLOB_NOMATCH || (rc == 0 && matches.empty()))
      return fail(ErrorCode::not_found,
                  where_prefix(source) + "no file matches the input pattern '" + source.text + "' (looked in " +
                      pattern.parent_path().string() + ")",
                  source.text);
    if (rc != 0)
      return fail(ErrorCode::io_error, where_prefix(source) + "cannot expand the input pattern '" + source.text + "'",
                  source.text);
  } else {
    matches.push_back(pattern);
  }

  std::vector<PlannedInput> inputs;
  for (const auto& match : matches) {
    std::error_code error;
    auto status = fs::status(match, error);
    if (error || !fs::exists(status)) {
      return fail(ErrorCode::not_found,
                  where_prefix(source) + "input file '" + match.string() + "' does not exist; fix the path in the " +
                      "manifest (relative paths start at the manifest's folder)",
                  source.text);
    }
    // A glob may also match folders; only regular files are inputs.
    if (!fs::is_regular_file(status)) {
      if (has_glob_characters(source.text)) continue;
      return fail(ErrorCode::invalid_argument,
                  where_prefix(source) + "input '" + match.string() + "' is not a regular file", source.text);
    }
    PlannedInput input;
    input.file = match;
    input.name = match.filename().string();
    input.where = source.where;
    inputs.push_back(std::move(input));
  }
  if (inputs.empty())
    return fail(ErrorCode::not_found, where_prefix(source) + "the input pattern '" + source.text +
                                          "' matches only folders, no files",
                source.text);
  return inputs;
}

std::string output_clash_key(const std::string& input_name, const config::JobParams& params) {
  std::string stem = fs::path(input_name).stem().string();
  std::string extension(config::file_extension(output_format(params)));
  return std::string(config::job_kind(params)) + "/" + stem + "." + extension;
}

std::vector<int> assign_output_suffixes(const std::vector<std::string>& keys) {
  std::map<std::string, int> seen;
  std::vector<int> suffixes;
  suffixes.reserve(keys.size());
  for (const auto& key : keys) {
    int count = ++seen[key];
    suffixes.push_back(count == 1 ? 0 : count);
  }
  return suffixes;
}

std::string local_output_name(const std::string& output_name, const std::string& input_name, int suffix) {
  if (suffix <= 0) return output_name;
  // Built in two steps: GCC 12 warns (-Wrestrict, wrongly) about "-" + to_string() here.
  std::string tag = "-";
  tag += std::to_string(suffix);
  std::string stem = fs::path(input_name).stem().string();
  if (!stem.empty() && output_name.size() > stem.size() && output_name.compare(0, stem.size(), stem) == 0)
    return output_name.substr(0, stem.size()) + tag + output_name.substr(stem.size());
  auto dot = output_name.find('.', 1);
  if (dot == std::string::npos) return output_name + tag;
  return output_name.substr(0, dot) + tag + output_name.substr(dot);
}

bool is_inside(const fs::path& path, const fs::path& folder) {
  fs::path base = folder.lexically_normal();
  if (!base.has_filename()) base = base.parent_path();  // "results/" names the same folder as "results"
  auto relative = path.lexically_normal().lexically_relative(base);
  return !relative.empty() && *relative.begin() != ".." && relative != ".";
}

std::optional<PlannedInput> awaited_input(const config::InputSource& source, const fs::path& base_dir,
                                          const fs::path& output_dir, int entry_index) {
  if (entry_index == 0 || source.kind != config::InputSource::Kind::path || has_glob_characters(source.text))
    return std::nullopt;
  fs::path file(source.text);
  if (file.is_relative()) file = base_dir / file;
  file = file.lexically_normal();
  std::error_code error;
  if (!is_inside(file, output_dir) || fs::exists(file, error)) return std::nullopt;
  PlannedInput input;
  input.file = file;
  input.name = file.filename().string();
  input.from_earlier_entry = true;
  input.where = source.where;
  return input;
}

Status check_awaited_input(const PlannedInput& input, const std::vector<fs::path>& earlier_outputs) {
  std::error_code error;
  if (fs::is_regular_file(input.file, error)) return {};
  std::string where = input.where.line > 0 ? input.where.to_string() + ": " : std::string();
  std::string listed;
  for (const auto& output : earlier_outputs) {
    if (!listed.empty()) listed += ", ";
    listed += output.string();
  }
  return fail(ErrorCode::not_found,
              fmt::format("{}input '{}' was to come from an earlier entry of the manifest, but none produced it "
                          "(their outputs: {}); fix the path or the earlier entry",
                          where, input.file.string(), listed.empty() ? "none" : listed),
              input.file.string());
}

Result<Plan> build_plan(const config::Manifest& manifest) {
  Plan plan;
  plan.name = manifest.name;
  plan.provider = manifest.provider;
  plan.manifest = manifest.file;
  plan.output_dir = manifest.output;
  std::set<fs::path> queued_uploads;
  std::vector<std::string> clash_keys;
  for (std::size_t entry = 0; entry < manifest.jobs.size(); ++entry) {
    const auto& job_entry = manifest.jobs[entry];
    int input_number = 0;
    std::set<std::string> seen_in_entry;
    if (const auto* generate = std::get_if<config::GenerateParams>(&job_entry.params)) {
      PlannedJob job;
      job.key = fmt::format("e{}-g", entry + 1);
      job.entry_index = static_cast<int>(entry);
      job.kind = "generate";
      job.summary = describe_params(job_entry.params);
      job.params = job_entry.params;
      job.input.generated = true;
      job.input.name = config::generate_output_stem(*generate);
      job.input.where = job_entry.where;
      clash_keys.push_back(output_clash_key(job.input.name, job.params));
      plan.jobs.push_back(std::move(job));
      continue;
    }
    for (const auto& source : job_entry.inputs) {
      Result<std::vector<PlannedInput>> expanded = std::vector<PlannedInput>{};
      if (auto awaited = awaited_input(source, manifest.base_dir, manifest.output, static_cast<int>(entry)))
        expanded->push_back(std::move(*awaited));
      else
        expanded = expand_input(source, manifest.base_dir);
      if (!expanded) return fail(expanded.error());
      for (auto& input : *expanded) {
        // The same file named twice in one entry (a glob and a path) runs once.
        if (!seen_in_entry.insert(input.shown()).second) continue;
        PlannedJob job;
        job.key = fmt::format("e{}-i{}", entry + 1, ++input_number);
        job.entry_index = static_cast<int>(entry);
        job.kind = std::string(config::job_kind(job_entry.params));
        job.summary = describe_params(job_entry.params);
        job.params = job_entry.params;
        job.input = std::move(input);
        if (!job.input.is_url && !job.input.from_earlier_entry && queued_uploads.insert(job.input.file).second)
          plan.uploads.push_back(job.input.file);
        clash_keys.push_back(output_clash_key(job.input.name, job.params));
        plan.jobs.push_back(std::move(job));
      }
    }
  }
  auto suffixes = assign_output_suffixes(clash_keys);
  for (std::size_t i = 0; i < plan.jobs.size(); ++i) plan.jobs[i].output_suffix = suffixes[i];
  return plan;
}

std::string describe_plan(const Plan& plan) {
  std::string text = fmt::format("Plan for '{}' on provider {}: {} job{}, {} file{} to upload\n", plan.name,
                                 plan.provider, plan.jobs.size(), plan.jobs.size() == 1 ? "" : "s",
                                 plan.uploads.size(), plan.uploads.size() == 1 ? "" : "s");
  for (const auto& job : plan.jobs)
    text += fmt::format("  {:<8} {} {}: {}{}\n", job.key, job.kind, job.summary, job.input.shown(),
                        job.input.from_earlier_entry ? " (after the earlier entries)" : "");
  text += "Outputs go to " + plan.output_dir.string() + "\n";
  return text;
}

nlohmann::json plan_to_json(const Plan& plan) {
  nlohmann::json jobs = nlohmann::json::array();
  for (const auto& job : plan.jobs) {
    jobs.push_back({{"key", job.key},
                    {"entry", job.entry_index},
                    {"kind", job.kind},
                    {"summary", job.summary},
                    {"input", job.input.shown()},
                    {"input_kind", input_kind(job.input)},
                    {"output_suffix", job.output_suffix}});
  }
  nlohmann::json uploads = nlohmann::json::array();
  for (const auto& file : plan.uploads) uploads.push_back(file.string());
  return {{"name", plan.name},     {"provider", plan.provider}, {"manifest", plan.manifest.string()},
          {"output", plan.output_dir.string()}, {"jobs", jobs}, {"uploads", uploads}};
}

}  // namespace ferry::controller
